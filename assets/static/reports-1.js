// Postern reports: CSV downloads with their progress shown in the page,
// and confirmations that name how many rows a bulk action touches.

// A link with data-export downloads through fetch, so the page can count
// the rows as they arrive against the X-Total-Count the server sends.
// Without this script the link is a plain download.
document.addEventListener("click", function (e) {
  var a = e.target.closest ? e.target.closest("a[data-export]") : null;
  if (!a || !window.fetch || !window.ReadableStream || !window.Blob) {
    return;
  }
  e.preventDefault();
  download(a, document.getElementById(a.getAttribute("data-export")));
});

async function download(a, box) {
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-progress-text]");
  box.hidden = false;
  box.removeAttribute("data-done");
  bar.removeAttribute("value");
  label.textContent = "Starting the export…";
  var res;
  try {
    res = await fetch(a.href, { credentials: "same-origin" });
  } catch (err) {
    label.textContent = "The export could not start: the appliance did not answer.";
    return;
  }
  if (!res.ok) {
    label.textContent = "The export failed (" + res.status + ").";
    return;
  }
  var total = parseInt(res.headers.get("X-Total-Count") || "0", 10);
  bar.max = Math.max(total, 1);
  var reader = res.body.getReader();
  var chunks = [];
  var rows = -1; // the header line is not a row
  for (;;) {
    var r;
    try {
      r = await reader.read();
    } catch (err) {
      label.textContent = "The export was cut short after " + Math.max(rows, 0) + " rows.";
      return;
    }
    if (r.done) {
      break;
    }
    chunks.push(r.value);
    for (var i = 0; i < r.value.length; i++) {
      if (r.value[i] === 10) {
        rows++;
      }
    }
    var shown = Math.min(Math.max(rows, 0), total);
    bar.value = shown;
    label.textContent = shown.toLocaleString() + " of " + total.toLocaleString() + " rows";
  }
  bar.value = bar.max;
  label.textContent = "Exported " + total.toLocaleString() + " rows.";
  box.setAttribute("data-done", "true");
  var name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  var url = URL.createObjectURL(new Blob(chunks, { type: "text/csv" }));
  var save = document.createElement("a");
  save.href = url;
  save.download = name ? name[1] : "export.csv";
  document.body.appendChild(save);
  save.click();
  save.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
}

// A button with data-print prints the page (the roll call on paper).
document.addEventListener("click", function (e) {
  if (e.target.closest && e.target.closest("[data-print]")) {
    window.print();
  }
});

// A checkbox with data-select-all="NAME" ticks every NAME box in its form.
document.addEventListener("change", function (e) {
  var name = e.target.getAttribute && e.target.getAttribute("data-select-all");
  if (!name || !e.target.form) {
    return;
  }
  e.target.form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
    box.checked = e.target.checked;
  });
});
