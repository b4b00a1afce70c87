// The worker side of decode-pool.ts: decrypts, decompresses and checks blobs off the main thread. It receives the
// master key once, then whole reads (the buffer transferred, never copied) with the blobs inside them, and answers
// each blob with its plaintext (transferred back) or the error that names it, several answers per message.
import { isMarkedAsUntransferable, parentPort } from "node:worker_threads";
import type { CryptoKey } from "./crypto.js";
import { gcPacer } from "../../gc-pacer.js";
import { decodeBlob, type PackedBlob } from "./pack.js";
import type { DecodeResult } from "./decode-pool.js";
import { releaseBuffer } from "../../../util/release-buffer.js";
import { isBatch, writeBatch, type Batch } from "../../restore/write-batch.js";

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
// Minor collections every 8 MiB decoded; no full ones: what a blob leaves behind here is young garbage (its cipher and
// hash objects, the message), its memory moves to the main thread or is freed at once, and zstd's context lives on
// (compress.ts). Full collections every 24 MiB cost ~0.6 s of a 1 GiB restore and kept nothing lower.
const pace = gcPacer(8 << 20, Number.POSITIVE_INFINITY);
let decoded = 0;

/** Answers go back in groups of this many plaintext bytes or blobs at most (one message each, not one per blob). */
const REPLY_BYTES = 256 << 10;
const REPLY_BLOBS = 64;

let results: DecodeResult[] = [];
let transfer: ArrayBuffer[] = [];
let replyBytes = 0;

function flush(): void {
  if (results.length === 0) return;
  parentPort!.postMessage({ results }, transfer);
  results = [];
  transfer = [];
  replyBytes = 0;
}

/** Queues a plaintext for the main thread: its own memory moves there (decodeBlob makes it so), else a copy does. */
function send(ticket: number, plain: Buffer): void {
  let own: ArrayBuffer;
  // Memory Node marked as not movable (its pool of small buffers) is copied, so that the message never fails.
  if (plain.byteOffset === 0 && plain.buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(plain.buffer)) own = plain.buffer;
  else {
    const copy = new Uint8Array(plain.length);
    copy.set(plain);
    own = copy.buffer;
  }
  results.push({ ticket, plain: own, length: plain.length });
  transfer.push(own);
  replyBytes += plain.length;
  if (replyBytes >= REPLY_BYTES || results.length >= REPLY_BLOBS) flush();
}

parentPort?.on("message", (msg: Init | Job | Batch) => {
  if (isBatch(msg)) {
    // A restore's small files, written here too: one helper thread per restore (decode-pool.ts filePort).
    const answer = writeBatch(msg);
    parentPort!.postMessage(answer, [answer.data]);
    return;
  }
  if (msg.kind === "key") {
    key = { encrypt: Buffer.from(msg.key.encrypt), macK: Buffer.from(msg.key.macK), macR: Buffer.from(msg.key.macR) };
    return;
  }
  const bytes = Buffer.from(msg.bytes);
  for (const { ticket, blob } of msg.blobs) {
    try {
      const sealed = bytes.subarray(blob.offset - msg.offset, blob.offset - msg.offset + blob.length);
      const plain = decodeBlob(key!, blob, sealed, msg.packId);
      decoded += plain.length + blob.length;
      send(ticket, plain);
      pace(decoded);
    } catch (err) {
      const e = err as Error & { file?: string };
      results.push({ ticket, error: e.message, file: e.file, integrity: e.name === "IntegrityError" });
    }
  }
  flush();
  releaseBuffer(bytes); // the read, transferred here: every blob of it is decoded
});
