// Registration from the invitation link: a tap key made by WebCrypto
// (non-extractable, kept in IndexedDB) and a passkey on the phone's own
// authenticator, both bound to the one-time code.

import { KeyError, api, b64, b64u, concat, enc, fromB64u, random, sha256 } from "./bytes.js";
import { saveKey } from "./store.js";

const button = document.getElementById("register");
const status = document.getElementById("status");
const install = document.getElementById("install");

function say(text, bad) {
  status.textContent = text;
  status.classList.toggle("bad", !!bad);
}

// creationOptions turns the site's JSON options into what the browser
// takes: the binary fields as bytes.
function creationOptions(o) {
  return {
    ...o,
    challenge: fromB64u(o.challenge),
    user: { ...o.user, id: fromB64u(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: fromB64u(c.id) })),
  };
}

function credentialJSON(cred) {
  const r = cred.response;
  return {
    id: cred.id,
    rawId: b64u(new Uint8Array(cred.rawId)),
    type: cred.type,
    response: {
      clientDataJSON: b64u(new Uint8Array(r.clientDataJSON)),
      attestationObject: b64u(new Uint8Array(r.attestationObject)),
      transports: r.getTransports ? r.getTransports() : [],
    },
    clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
    authenticatorAttachment: cred.authenticatorAttachment || undefined,
  };
}

async function register(code) {
  if (!window.isSecureContext || !window.PublicKeyCredential) {
    throw new KeyError("This browser cannot hold a passkey here. Open the link in the phone's own browser, over https.");
  }
  const begun = await api("/api/key/web/register/begin", { code });
  const options = creationOptions(begun.options);

  const tap = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const tapPublic = new Uint8Array(await crypto.subtle.exportKey("raw", tap.publicKey));

  let passkey;
  try {
    passkey = await navigator.credentials.create({ publicKey: options });
  } catch {
    throw new KeyError("The phone did not make a passkey. It needs a screen lock (fingerprint, face or passcode). Try again.");
  }

  const nonce = random(16);
  const codeHash = await sha256(enc(code));
  const signed = concat(enc("postern-webkey-register-v1"), codeHash, nonce, tapPublic, options.challenge);
  const tapSig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, tap.privateKey, signed));

  const answer = await api("/api/key/web/register/finish", {
    session: begun.session,
    code,
    nonce: b64(nonce),
    tap_key: b64(tapPublic),
    tap_sig: b64(tapSig),
    credential: credentialJSON(passkey),
    device: navigator.userAgent,
  });
  await saveKey({
    credential_id: answer.credential_id,
    site: answer.site,
    first_name: answer.first_name,
    last_name: answer.last_name,
    tapKey: tap.privateKey,
    passkey_id: b64u(new Uint8Array(passkey.rawId)),
    registered_at: Date.now(),
  });
}

// The offer to add the key to the home screen, once registered: the
// browser's own install prompt where it has one (Chrome, Edge, Samsung
// Internet fire beforeinstallprompt), otherwise the steps for the phone's
// browser; nothing when the page already runs from the home screen.
let installPrompt = null;
let registered = false;
const installHelp = document.getElementById("install-help");

function standalone() {
  return window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}

function installSteps() {
  const ua = navigator.userAgent;
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)) {
    return "To keep the key on the home screen: in Safari, tap Share (the square with an arrow), then Add to Home Screen.";
  }
  if (/Firefox/.test(ua)) return "To keep the key on the home screen: open Firefox's menu (⋮), then Install or Add to Home screen.";
  return "To keep the key on the home screen: open the browser's menu, then Add to Home screen (or Install app).";
}

function offerInstall() {
  if (!registered || !install || !installHelp) return;
  if (standalone()) {
    install.hidden = true;
    installHelp.hidden = true;
    return;
  }
  install.hidden = !installPrompt;
  installHelp.hidden = !!installPrompt;
  if (!installPrompt) installHelp.textContent = installSteps();
}

window.addEventListener("beforeinstallprompt", (e) => {
  e.preventDefault();
  installPrompt = e;
  offerInstall();
});

window.addEventListener("appinstalled", () => {
  installPrompt = null;
  if (install) install.hidden = true;
  if (installHelp) {
    installHelp.hidden = false;
    installHelp.textContent = "The key is on your home screen.";
  }
});

if (button) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    say("Registering…");
    try {
      await register(button.dataset.code);
      say("Registered");
      button.hidden = true;
      document.getElementById("done").hidden = false;
      registered = true;
      offerInstall();
    } catch (e) {
      say(e instanceof KeyError ? e.message : "Registration failed: " + e.message, true);
      button.disabled = false;
    }
  });
}

if (install) {
  install.addEventListener("click", async () => {
    if (!installPrompt) return;
    const prompt = installPrompt;
    installPrompt = null;
    prompt.prompt();
    const choice = await prompt.userChoice;
    install.hidden = true;
    if (choice && choice.outcome !== "accepted") {
      installHelp.hidden = false;
      installHelp.textContent = installSteps();
    }
  });
}

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/key/sw.js", { scope: "/key" }).catch(() => {});
