// The worker side of encode-pool.ts: compresses and encrypts data blobs off the main thread. It receives the master
// key once, then plaintexts (transferred, never copied), and answers each with the sealed blob (transferred back).
import { parentPort } from "node:worker_threads";
import { gcPacer } from "../../gc-pacer.js";
import type { CryptoKey } from "./crypto.js";
import { releaseBuffer } from "../../../util/release-buffer.js";
import { encodeBlob } from "./pack.js";

interface Init {
  kind: "key";
  key: { encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array };
}

interface Job {
  kind: "encode";
  ticket: number;
  plain: ArrayBuffer;
  length: number;
  compress: boolean;
  level: number;
}

let key: CryptoKey | undefined;
const pace = gcPacer(8 << 20, 32 << 20);
let encoded = 0;

parentPort?.on("message", (msg: Init | Job) => {
  if (msg.kind === "key") {
    key = { encrypt: Buffer.from(msg.key.encrypt), macK: Buffer.from(msg.key.macK), macR: Buffer.from(msg.key.macR) };
    parentPort!.postMessage({ ready: true }); // loaded, with the key: blobs go here from now on
    return;
  }
  try {
    const { sealed, uncompressedLength } = encodeBlob(key!, new Uint8Array(msg.plain, 0, msg.length), msg.compress, msg.level);
    // A sealed blob has memory of its own (crypto.ts seal): it goes to the main thread as it is, else a copy does (the
    // original freed now, not at this thread's next collection). The plaintext's buffer goes back for the next chunk.
    const owned = sealed.byteOffset === 0 && sealed.buffer.byteLength === sealed.length && sealed.buffer instanceof ArrayBuffer;
    const out = owned ? (sealed.buffer as ArrayBuffer) : new Uint8Array(sealed).buffer;
    if (!owned) releaseBuffer(sealed);
    parentPort!.postMessage({ ticket: msg.ticket, sealed: out, length: sealed.length, uncompressedLength, plain: msg.plain }, [out, msg.plain]);
    encoded += msg.length;
    pace(encoded);
  } catch (err) {
    parentPort!.postMessage({ ticket: msg.ticket, error: (err as Error).message, plain: msg.plain }, [msg.plain]);
  }
});
