// Bytes as the protocol writes them: concatenation, hex, base64 and
// base64url, SHA-256, fresh random values.

export const enc = (s) => new TextEncoder().encode(s);

export function concat(...parts) {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

export function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(s) {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function b64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromB64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

export function b64u(bytes) {
  return b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromB64u(s) {
  let t = s.replace(/-/g, "+").replace(/_/g, "/");
  while (t.length % 4) t += "=";
  return fromB64(t);
}

export async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

export function random(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

// u64 is a big-endian 64-bit integer, as time stamps are signed.
export function u64(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

// KeyError is a failure to show as it is: its message is in people's words.
export class KeyError extends Error {}

// api posts JSON to the appliance and returns its JSON answer, or throws a
// KeyError with the appliance's own message.
export function api(path, body) {
  return post(path, JSON.stringify(body), {});
}

// post sends body (text or bytes, JSON) as it is, with extra headers, for
// requests signed over their exact bytes.
export async function post(path, body, headers) {
  let r;
  try {
    r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body,
      credentials: "same-origin",
    });
  } catch {
    throw new KeyError("No connection to the site. Check the phone's network and try again.");
  }
  if (r.status === 204) return {};
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new KeyError(data.message || `The site refused (${r.status}).`);
  return data;
}

// getJSON reads the appliance's JSON answer to a GET.
export async function getJSON(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new KeyError(data.message || `The site refused (${r.status}).`);
  return data;
}
