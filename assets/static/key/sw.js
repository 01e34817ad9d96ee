// The key page's service worker: the page and its scripts come from the
// cache at once, are refreshed from the network behind, and a phone with
// no connection gets a clear message rather than a browser error. The
// key API is never cached.

const CACHE = "postern-key-2";
const SHELL = [
  "/key",
  "/assets/key/key.js",
  "/assets/key/bytes.js",
  "/assets/key/store.js",
  "/assets/key/v2.js",
  "/assets/key/present.js",
  "/assets/key/ble.js",
  "/assets/key/share.js",
  "/assets/key/key.css",
];

const OFFLINE = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline</title></head>
<body><main><h1>No connection</h1><p role="status">This phone cannot reach the site. Connect to the site's Wi-Fi or mobile data and open the key again. Doors with a reader still open when you present the phone there.</p></main></body></html>`;

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  if (e.request.mode === "navigate") {
    e.respondWith(
      fetch(e.request).catch(async () => {
        const cached = await caches.match(e.request, { ignoreSearch: true });
        return cached || new Response(OFFLINE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
      }),
    );
    return;
  }
  if (SHELL.includes(url.pathname)) {
    e.respondWith(
      caches.match(e.request).then((cached) => {
        const fresh = fetch(e.request).then((r) => {
          if (r.ok) caches.open(CACHE).then((c) => c.put(e.request, r.clone()));
          return r;
        });
        return cached || fresh;
      }),
    );
  }
});
