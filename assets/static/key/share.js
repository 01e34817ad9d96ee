// "Add this key to another site": the key's home site emails the other
// site's administrator a token that introduces the holder; that site then
// invites the holder to register a web key of its own (a passkey belongs
// to one site's host name, so this key cannot be carried there). Sending
// takes the holder's fingerprint, face or passcode: the request is signed
// by the passkey, its challenge bound to the request's exact bytes.

import { KeyError, b64, enc, fromHex, post, sha256, u64 } from "./bytes.js";
import { passkeyAssertion } from "./present.js";

// shareDigest is the challenge: SHA-256("postern-share-v2" || credential
// id || at, unix ms || SHA-256(body)), what a native key's unlock key
// signs for the same request.
async function shareDigest(credentialID, at, body) {
  return sha256(enc("postern-share-v2"), fromHex(credentialID), u64(at), await sha256(body));
}

// shareKey asks the home site to send the token and returns its answer.
export async function shareKey(key, fields) {
  const body = enc(JSON.stringify({ credential_id: key.credential_id, ...fields }));
  const at = Date.now();
  const assertion = await passkeyAssertion(key, await shareDigest(key.credential_id, at, body));
  if (!assertion) throw new KeyError("The phone did not confirm it's you, so nothing was sent. Try again.");
  return post("/api/key/web/share", body, { "X-Postern-Time": String(at), "X-Postern-Signature": b64(assertion) });
}

// wireShareForm makes the form send the request, and say what happened.
export function wireShareForm(form, key) {
  const status = form.querySelector('[role="status"]');
  const say = (text, kind) => {
    status.textContent = text;
    status.className = kind || "";
  };
  form.elements.first_name.value ||= key.first_name || "";
  form.elements.last_name.value ||= key.last_name || "";
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const button = form.querySelector("button");
    button.disabled = true;
    say("Confirm it's you on the phone…", "busy");
    const f = form.elements;
    try {
      await shareKey(key, {
        first_name: f.first_name.value.trim(),
        last_name: f.last_name.value.trim(),
        admin_email: f.admin_email.value.trim(),
        holder_email: f.holder_email.value.trim(),
      });
      say(`Sent to ${f.admin_email.value.trim()}. When they add you, you will get an invitation at ${f.holder_email.value.trim()} to set up this phone for their site too.`, "good");
      f.admin_email.value = "";
    } catch (err) {
      say(err instanceof KeyError ? err.message : "Nothing was sent: " + err.message, "bad");
    } finally {
      button.disabled = false;
    }
  });
}
