// The key page: the doors this phone may open, each with its Open button,
// over the network where the door allows it and over Bluetooth where the
// browser has it; and removing the key from this phone.

import { KeyError, api, b64, concat, enc, fromHex, getJSON, u64 } from "./bytes.js";
import { openOverBluetooth, bluetoothAvailable } from "./ble.js";
import { networkLink, present } from "./present.js";
import { deleteKey, loadKey } from "./store.js";
import { wireShareForm } from "./share.js";
import { answerText } from "./v2.js";

const main = document.querySelector("main");
const list = document.getElementById("doors");
const answer = document.getElementById("answer");
const holder = document.getElementById("holder");

function say(text, kind) {
  answer.textContent = text;
  answer.className = kind || "";
}

// signed asks the site something about this key, signed by its tap key.
async function signed(key, action, path) {
  const at = Date.now();
  const preimage = concat(enc("postern-webkey-request-v1"), enc(action), fromHex(key.credential_id), u64(at));
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.tapKey, preimage));
  return api(path, { credential_id: key.credential_id, at, signature: b64(sig) });
}

async function open(key, door, button) {
  button.disabled = true;
  say(door.passkey ? "Confirm it's you on the phone…" : "Opening " + door.name + "…", "busy");
  try {
    const result = door.phone ? await present(networkLink(door.id), key) : await openOverBluetooth(key);
    say(answerText(result), result.granted ? "good" : "bad");
  } catch (e) {
    say("Access denied: " + (e instanceof KeyError ? e.message : "the door could not be reached"), "bad");
  } finally {
    button.disabled = false;
  }
}

function doorButton(key, door, first) {
  const li = document.createElement("li");
  li.dataset.testid = "door";
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = "Open " + door.name;
  b.setAttribute("aria-label", "Open " + door.name + (door.phone ? "" : " over Bluetooth"));
  b.dataset.door = String(door.id);
  if (first) b.classList.add("first");
  if (!door.phone && !bluetoothAvailable()) {
    b.disabled = true;
    const why = document.createElement("span");
    why.className = "hint";
    why.textContent = " Present the phone at this door's reader.";
    li.append(b, why);
  } else {
    li.append(b);
  }
  b.addEventListener("click", () => open(key, door, b));
  return li;
}

async function doors(key, firstID) {
  let all = [];
  let listed = false;
  try {
    all = (await signed(key, "doors", "/api/key/web/doors")).doors;
    listed = true;
  } catch (e) {
    say(e instanceof KeyError ? e.message : "The site could not be reached.", "bad");
  }
  if (firstID) {
    // The door's own link (a sticker or a QR code at the door) puts it
    // first, listed or not: the exchange decides.
    let door = all.find((d) => d.id === firstID);
    if (!door) {
      door = await getJSON("/api/key/web/doors/" + firstID).catch(() => null);
    }
    if (door) all = [door, ...all.filter((d) => d.id !== firstID)];
  }
  list.replaceChildren(...all.map((d, i) => doorButton(key, d, firstID && i === 0)));
  if (listed && all.length === 0) say("No doors open from this phone here.", "");
}

async function start() {
  const key = await loadKey();
  if (!key) {
    document.getElementById("nokey").hidden = false;
    return;
  }
  holder.textContent = `${key.first_name} ${key.last_name}`.trim() + " · " + key.site.name;
  document.getElementById("keyonly").hidden = false;
  const firstID = Number(main.dataset.door) || 0;
  await doors(key, firstID);
  main.dataset.ready = "true";

  const ble = document.getElementById("ble");
  if (bluetoothAvailable()) {
    ble.hidden = false;
    ble.addEventListener("click", async () => {
      ble.disabled = true;
      say("Looking for the door's reader…", "busy");
      try {
        say(answerText(await openOverBluetooth(key)), "");
      } catch (e) {
        say("Access denied: " + (e instanceof KeyError ? e.message : "the reader could not be reached"), "bad");
      } finally {
        ble.disabled = false;
      }
    });
  }

  wireShareForm(document.getElementById("share"), key);

  document.getElementById("remove").addEventListener("click", async () => {
    if (!confirm("Remove this key from this phone? You will need a new invitation to use this phone again.")) return;
    try {
      await signed(key, "remove", "/api/key/web/remove");
    } catch (e) {
      if (!(e instanceof KeyError)) throw e;
      // A key the site no longer knows or has revoked is removed all the same.
    }
    await deleteKey();
    list.replaceChildren();
    document.getElementById("keyonly").hidden = true;
    say("This phone is no longer a key.", "");
  });
}

start().catch((e) => say("The key could not start: " + e.message, "bad"));

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/key/sw.js", { scope: "/key" }).catch(() => {});
