// The worker side of decode-pool.ts: decrypts, decompresses and checks blobs off the main thread. It receives the
// master key once, then whole reads (the buffer transferred, never copied) with the blobs inside them, and answers
// each blob with its plaintext (transferred back) or the error that names it.
import { parentPort } from "node:worker_threads";
import type { CryptoKey } from "./crypto.js";
import { gcPacer } from "../../gc-pacer.js";
import { decodeBlob, type PackedBlob } from "./pack.js";

interface Init {
  kind: "key";
  key: { encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array };
}

interface Job {
  kind: "read";
  packId: string;
  /** The read's bytes (starting at `offset` in the pack). */
  bytes: ArrayBuffer;
  offset: number;
  blobs: { ticket: number; blob: PackedBlob }[];
}

let key: CryptoKey | undefined;
const pace = gcPacer(8 << 20, 24 << 20);
let decoded = 0;

/** A plaintext in an ArrayBuffer of its own (transferable without taking anything else along). */
function own(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length && b.buffer instanceof ArrayBuffer) return b.buffer;
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return copy.buffer;
}

parentPort?.on("message", (msg: Init | Job) => {
  if (msg.kind === "key") {
    key = { encrypt: Buffer.from(msg.key.encrypt), macK: Buffer.from(msg.key.macK), macR: Buffer.from(msg.key.macR) };
    return;
  }
  const bytes = Buffer.from(msg.bytes);
  for (const { ticket, blob } of msg.blobs) {
    try {
      const sealed = bytes.subarray(blob.offset - msg.offset, blob.offset - msg.offset + blob.length);
      const plain = decodeBlob(key!, blob, sealed, msg.packId);
      const out = own(plain);
      parentPort!.postMessage({ ticket, plain: out, length: plain.length }, [out]);
      decoded += plain.length + blob.length;
      pace(decoded);
    } catch (err) {
      const e = err as Error & { file?: string };
      parentPort!.postMessage({ ticket, error: e.message, file: e.file, integrity: e.name === "IntegrityError" });
    }
  }
});
