// Credential protocol version 2, the key's side, as docs/protocol.md
// gives it: the hello, the site's signed challenge, the response sealed
// to the reader and signed by the tap key, the passkey's assertion where
// unlock is required, and the result.

import { KeyError, concat, enc, equal, fromB64, fromHex, random, sha256 } from "./bytes.js";

const HELLO = 0xb1;
const CHALLENGE = 0xb2;
const RESPONSE = 0xb3;
const RESULT = 0xb4;
const ASSERTION = 0xb5;

const ecdsa = { name: "ECDSA", hash: "SHA-256" };
const p256 = { name: "ECDH", namedCurve: "P-256" };

// Flags of a response: the holder verified, by a passkey assertion.
export const FLAG_USER_VERIFIED = 1;
export const FLAG_PASSKEY = 2;

// newHello makes a hello with a fresh ephemeral key. A web key keeps no
// ticket and has no share to introduce: those fields are random, as the
// protocol asks.
export async function newHello() {
  const eph = await crypto.subtle.generateKey(p256, false, ["deriveBits"]);
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", eph.publicKey));
  return { bytes: concat([HELLO, 1, 2], pub, random(48)), eph };
}

// readChallenge checks a challenge is the pinned site's, signed over this
// very hello, and returns what the key needs to answer it.
export async function readChallenge(hello, raw, site) {
  if (raw[0] !== CHALLENGE) throw new KeyError("The door did not answer as a Postern reader does.");
  const v = raw[1];
  const m = raw[2];
  if (v !== 2 || m < 1 || m > 8) throw new KeyError("The door speaks another version of the key protocol.");
  let off = 3 + m;
  const take = (n) => raw.slice(off, (off += n));
  const siteID = take(16);
  const keyID = take(8);
  take(16); // reader id
  const requirements = take(1)[0];
  take(1); // unlock window
  const contents = take(1)[0];
  const readerKey = take(65);
  if (!equal(siteID, fromHex(site.id))) throw new KeyError("This door belongs to another site.");
  if (contents !== 0 || !equal(keyID, fromHex(site.key_id))) {
    throw new KeyError("The site's key has changed. Register this phone again from a new invitation.");
  }
  if (raw.length !== off + 64) throw new KeyError("The door's challenge is malformed.");
  const pub = await crypto.subtle.importKey("raw", fromB64(site.public_key), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const signed = concat(enc("postern-challenge-v2"), await sha256(hello), raw.slice(0, off));
  if (!(await crypto.subtle.verify(ecdsa, pub, raw.slice(off), signed))) {
    throw new KeyError("The door's signature is wrong: it is not your site's reader.");
  }
  return { version: v, unlock: (requirements & 1) === 1, readerKey, raw };
}

async function sessionKeys(eph, readerKey, transcript) {
  const reader = await crypto.subtle.importKey("raw", readerKey, p256, false, []);
  const z = await crypto.subtle.deriveBits({ name: "ECDH", public: reader }, eph.privateKey, 256);
  const ikm = await crypto.subtle.importKey("raw", z, "HKDF", false, ["deriveBits"]);
  const salt = await sha256(enc("postern-session-v2"), transcript);
  const expand = async (info) =>
    new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info: enc(info) }, ikm, 256));
  return { response: await expand("postern v2 response key"), result: await expand("postern v2 result key") };
}

// respond seals the response: the credential id, the flags and the tap
// key's signature over the transcript. digest is D_resp, the challenge a
// passkey signs where unlock is required.
export async function respond(hello, ch, credentialID, tapKey, flags) {
  const transcript = await sha256(hello.bytes, ch.raw);
  const keys = await sessionKeys(hello.eph, ch.readerKey, transcript);
  const preimage = concat(enc("postern-response-v2"), transcript, credentialID, [flags]);
  const sig = new Uint8Array(await crypto.subtle.sign(ecdsa, tapKey, preimage));
  const header = new Uint8Array([RESPONSE, ch.version]);
  const key = await crypto.subtle.importKey("raw", keys.response, "AES-GCM", false, ["encrypt"]);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: new Uint8Array(12), additionalData: header },
    key,
    concat(credentialID, [flags], sig),
  );
  return { message: concat(header, sealed), resultKey: keys.result, digest: await sha256(preimage) };
}

// assertionMessage lays a passkey's assertion out as message 0xB5.
export function assertionMessage(authenticatorData, clientDataJSON, signature) {
  const u16 = (n) => [n >> 8, n & 0xff];
  return concat(
    [ASSERTION],
    u16(authenticatorData.length),
    authenticatorData,
    u16(clientDataJSON.length),
    clientDataJSON,
    [signature.length],
    signature,
  );
}

// openResult reads the reader's sealed answer.
export async function openResult(resultKey, raw) {
  if (raw[0] !== RESULT || raw[2] !== 0 || raw.length !== 107) throw new KeyError("The door's answer is malformed.");
  const key = await crypto.subtle.importKey("raw", resultKey, "AES-GCM", false, ["decrypt"]);
  let plain;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12), additionalData: raw.slice(0, 3) }, key, raw.slice(3)),
    );
  } catch {
    throw new KeyError("The door's answer does not come from the reader this phone answered.");
  }
  const length = plain[2];
  return { granted: plain[0] === 1, reason: plain[1], message: new TextDecoder().decode(plain.slice(3, 3 + length)) };
}

// reasons are the protocol's refusals in people's words.
const reasons = {
  1: "this site does not know this key",
  2: "this key is no longer active",
  3: "your account is disabled",
  4: "your access has not started yet",
  5: "your access has ended",
  6: "you have no permission for this door",
  7: "not allowed at this time",
  8: "this door needs your fingerprint, face or passcode",
  9: "the site is in lockdown",
  10: "the door could not accept this phone's answer",
  11: "update your key",
};

// answerText is what the page shows for a result.
export function answerText(r) {
  if (r.granted) return "Access granted";
  return "Access denied: " + (reasons[r.reason] || `reason ${r.reason}`);
}
