// One presentation over any link, the network's or Bluetooth's: the same
// version 2 exchange either way.

import { api, b64u, fromB64u, fromHex } from "./bytes.js";
import { FLAG_PASSKEY, FLAG_USER_VERIFIED, assertionMessage, newHello, openResult, readChallenge, respond } from "./v2.js";

// present runs the exchange over link ({send, recv}) as key and returns
// the result.
export async function present(link, key) {
  const hello = await newHello();
  await link.send(hello.bytes);
  const ch = await readChallenge(hello.bytes, await link.recv(), key.site);
  const credentialID = fromHex(key.credential_id);
  let r;
  if (ch.unlock) {
    r = await respond(hello, ch, credentialID, key.tapKey, FLAG_USER_VERIFIED | FLAG_PASSKEY);
    const assertion = await passkeyAssertion(key, r.digest);
    if (assertion) {
      await link.send(r.message);
      await link.send(assertion);
    } else {
      // The phone did not verify the holder: answer with the tap key
      // alone, and the door says what it needs.
      r = await respond(hello, ch, credentialID, key.tapKey, 0);
      await link.send(r.message);
    }
  } else {
    r = await respond(hello, ch, credentialID, key.tapKey, 0);
    await link.send(r.message);
  }
  return openResult(r.resultKey, await link.recv());
}

// passkeyAssertion asks the phone to verify the holder (fingerprint, face
// or passcode) and sign the transcript digest with the passkey; null when
// the holder or the phone could not.
export async function passkeyAssertion(key, digest) {
  try {
    const cred = await navigator.credentials.get({
      publicKey: {
        challenge: digest,
        allowCredentials: [{ type: "public-key", id: fromB64u(key.passkey_id) }],
        userVerification: "required",
        timeout: 60000,
      },
    });
    const a = cred.response;
    return assertionMessage(new Uint8Array(a.authenticatorData), new Uint8Array(a.clientDataJSON), new Uint8Array(a.signature));
  } catch {
    return null;
  }
}

// networkLink carries an exchange over the site's HTTPS ("open from this
// phone"): the messages the key sends go with the request that waits for
// the reader's next one.
export function networkLink(accessPoint) {
  let queue = [];
  let exchange = "";
  return {
    async send(msg) {
      queue.push(b64u(msg));
    },
    async recv() {
      const messages = queue;
      queue = [];
      const path = exchange ? "/api/key/web/open/" + exchange : "/api/key/web/open";
      const r = await api(path, { access_point: accessPoint, messages });
      if (r.exchange) exchange = r.exchange;
      return fromB64u(r.message);
    },
  };
}
