// Web Bluetooth, where the browser has it: the phone connects to the
// reader's advertised service and runs the exchange over GATT, writing to
// Reader RX and reading Reader TX's notifications, in the protocol's
// fragments. Proximity is the radio's.

import { KeyError } from "./bytes.js";
import { present } from "./present.js";

export const READER_SERVICE = "3afbf2ae-34a0-4f15-9add-4657ab1c2863";
const READER_RX = "1304a292-30bd-4456-bfe9-9ae61f5cb2e4";
const READER_TX = "4fc8fd46-e568-4807-94cd-21f2be456088";

// The page cannot read the link's MTU, so it writes fragments that fit
// the smallest one (23, less the 3-byte ATT header).
const FRAGMENT = 20;
const MAX_MESSAGE = 512;

export function bluetoothAvailable() {
  return !!(navigator.bluetooth && navigator.bluetooth.requestDevice);
}

// fragments cuts a message as docs/protocol.md says: a first fragment with
// the length, then numbered ones, the last one flagged.
export function fragments(msg, size = FRAGMENT) {
  const out = [];
  let off = 0;
  let seq = 0;
  while (off < msg.length) {
    const headerSize = seq === 0 ? 3 : 1;
    const chunk = msg.slice(off, off + size - headerSize);
    off += chunk.length;
    const last = off >= msg.length ? 0x40 : 0;
    const header = seq === 0 ? [0x80 | last, msg.length >> 8, msg.length & 0xff] : [last | seq % 64];
    const f = new Uint8Array(headerSize + chunk.length);
    f.set(header);
    f.set(chunk, headerSize);
    out.push(f);
    seq++;
  }
  return out;
}

// Reassembler puts fragments back together, refusing any out of order.
export class Reassembler {
  constructor() {
    this.reset();
  }
  reset() {
    this.buf = null;
    this.want = 0;
    this.seq = 0;
  }
  push(f) {
    if (f.length < 2) throw new KeyError("The reader sent an empty fragment.");
    const first = (f[0] & 0x80) !== 0;
    const last = (f[0] & 0x40) !== 0;
    let data;
    if (first) {
      if (this.buf || (f[0] & 0x3f) !== 0 || f.length < 4) throw new KeyError("The reader's message is out of order.");
      this.want = (f[1] << 8) | f[2];
      if (this.want < 1 || this.want > MAX_MESSAGE) throw new KeyError("The reader's message has a wrong length.");
      this.buf = [];
      this.seq = 0;
      data = f.slice(3);
    } else {
      this.seq = (this.seq + 1) % 64;
      if (!this.buf || (f[0] & 0x3f) !== this.seq) throw new KeyError("The reader's message is out of order.");
      data = f.slice(1);
    }
    this.buf.push(...data);
    if (this.buf.length > this.want || (last && this.buf.length !== this.want) || (!last && this.buf.length === this.want)) {
      this.reset();
      throw new KeyError("The reader's message has a wrong length.");
    }
    if (!last) return null;
    const msg = new Uint8Array(this.buf);
    this.reset();
    return msg;
  }
}

// gattLink is a link over the reader's characteristics.
async function gattLink(service) {
  const rx = await service.getCharacteristic(READER_RX);
  const tx = await service.getCharacteristic(READER_TX);
  const inbox = [];
  const waiting = [];
  const r = new Reassembler();
  tx.addEventListener("characteristicvaluechanged", (e) => {
    const v = e.target.value;
    let msg = null;
    try {
      msg = r.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } catch (err) {
      if (waiting.length) waiting.shift().reject(err);
      return;
    }
    if (!msg) return;
    if (waiting.length) waiting.shift().resolve(msg);
    else inbox.push(msg);
  });
  await tx.startNotifications();
  return {
    async send(msg) {
      for (const f of fragments(msg)) await rx.writeValueWithResponse(f);
    },
    recv() {
      if (inbox.length) return Promise.resolve(inbox.shift());
      return new Promise((resolve, reject) => {
        const w = { resolve, reject };
        waiting.push(w);
        setTimeout(() => {
          const i = waiting.indexOf(w);
          if (i >= 0) {
            waiting.splice(i, 1);
            reject(new KeyError("The reader stopped answering. Hold the phone closer and try again."));
          }
        }, 15000);
      });
    },
  };
}

// openOverBluetooth asks the browser for a nearby Postern reader,
// connects, presents the key and hangs up.
export async function openOverBluetooth(key) {
  if (!bluetoothAvailable()) throw new KeyError("This browser has no Bluetooth. Use a door that opens from the phone.");
  let device;
  try {
    device = await navigator.bluetooth.requestDevice({ filters: [{ services: [READER_SERVICE] }] });
  } catch {
    throw new KeyError("No door reader was chosen.");
  }
  const server = await device.gatt.connect();
  try {
    const service = await server.getPrimaryService(READER_SERVICE);
    return await present(await gattLink(service), key);
  } finally {
    server.disconnect();
  }
}
