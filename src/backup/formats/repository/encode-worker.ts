// The worker side of encode-pool.ts: compresses and encrypts data blobs off the main thread. It receives the master
// key once, then batches of plaintexts (one buffer, transferred, never copied), and answers each batch with one
// message: every blob's sealed bytes (each in a buffer of its own, transferred) or its error, and the batch's buffer.
import { parentPort } from "node:worker_threads";
import { gcPacer } from "../../gc-pacer.js";
import type { CryptoKey } from "./crypto.js";
import { ownsWholeBuffer, releaseBuffer } from "../../../util/release-buffer.js";
import { encodeBlob } from "./pack.js";

interface Init {
  kind: "key";
  key: { encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array };
}

interface Batch {
  kind: "batch";
  /** The plaintexts, one after another (the buffer goes back with the answer, to be filled again). */
  plain: ArrayBuffer;
  blobs: { ticket: number; offset: number; length: number; compress: boolean; level: number }[];
}

let key: CryptoKey | undefined;
const pace = gcPacer(8 << 20, 32 << 20);
let encoded = 0;

parentPort?.on("message", (msg: Init | Batch) => {
  if (msg.kind === "key") {
    key = { encrypt: Buffer.from(msg.key.encrypt), macK: Buffer.from(msg.key.macK), macR: Buffer.from(msg.key.macR) };
    parentPort!.postMessage({ ready: true }); // loaded, with the key: blobs go here from now on
    return;
  }
  const results: { ticket: number; sealed?: ArrayBuffer; length?: number; uncompressedLength?: number; error?: string }[] = [];
  const transfer: ArrayBuffer[] = [msg.plain];
  for (const b of msg.blobs) {
    try {
      const { sealed, uncompressedLength } = encodeBlob(key!, new Uint8Array(msg.plain, b.offset, b.length), b.compress, b.level);
      // A sealed blob has memory of its own (crypto.ts seal): it goes to the main thread as it is, else a copy does
      // (the original freed now, not at this thread's next collection).
      const owned = ownsWholeBuffer(sealed);
      const out = owned ? sealed.buffer : new Uint8Array(sealed).buffer;
      if (!owned) releaseBuffer(sealed);
      results.push({ ticket: b.ticket, sealed: out, length: sealed.length, uncompressedLength });
      transfer.push(out);
      encoded += b.length;
    } catch (err) {
      results.push({ ticket: b.ticket, error: (err as Error).message });
    }
  }
  parentPort!.postMessage({ plain: msg.plain, results }, transfer);
  pace(encoded);
});
