// The phone's key, kept in the page's IndexedDB: the tap key as a
// non-extractable CryptoKey (the browser keeps its private half; the page
// can sign with it but never read it), the passkey's id, and the site as
// it was pinned at registration.

const DB = "postern-key";
const STORE = "keys";
const ID = "this";

function open() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function run(mode, f) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const r = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(r && r.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export function loadKey() {
  return run("readonly", (s) => s.get(ID));
}

export function saveKey(key) {
  return run("readwrite", (s) => s.put(key, ID));
}

export function deleteKey() {
  return run("readwrite", (s) => s.delete(ID));
}
