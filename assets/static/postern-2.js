// Postern admin pages: ask before destructive form posts, and print.
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});
// A page made to be printed has a Print button.
document.addEventListener("click", function (e) {
  if (e.target.closest("[data-print]")) {
    window.print();
  }
});
