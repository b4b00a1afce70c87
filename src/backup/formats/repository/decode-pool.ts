// Blob decoding (AES-CTR, Poly1305, zstd, SHA-256 — about as much CPU as the rest of a restore together) on a worker
// thread, so it runs beside the main thread's work (the restore writer's system calls, the transport) instead of
// before it: on two cores that is what brings a restore to restic's pace. A read's bytes go to the worker whole
// (transferred, not copied) and the plaintexts come back the same way, a few in one message. Where a worker cannot
// start (an embedder that forbids them, the sources run without a build), decoding stays on the main thread: slower,
// never different.
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { CryptoKey } from "./crypto.js";
import { IntegrityError } from "./errors.js";
import type { Id } from "./ids.js";
import { decodeBlob, type PackedBlob } from "./pack.js";
import { findWorkerFile } from "../../../util/worker-file.js";
import { ownsWholeBuffer } from "../../../util/release-buffer.js";
import type { HelperPort } from "../../../util/helper-port.js";

export interface BlobDecoder {
  /** Decodes the blobs of one read; each promise settles with its blob's verified plaintext or its error. */
  decode(packId: Id, bytes: Buffer, offset: number, blobs: readonly PackedBlob[]): Promise<Buffer>[];
  close(): void;
  /**
   * The decoder's thread as a helper for a restore's small files (the thread also writes file batches, see
   * restore/write-batch.ts), so that a restore runs one helper thread, not two; undefined once closed or stopped. The
   * thread lives until both the decoder is closed and the port is ended.
   */
  filePort?(): HelperPort | undefined;
}

/** Decoding on the calling thread (the fallback, and what small reads use). */
export function inlineDecoder(key: CryptoKey): BlobDecoder {
  return {
    decode: (packId, bytes, offset, blobs) =>
      blobs.map((b) => {
        try {
          return Promise.resolve(decodeBlob(key, b, bytes.subarray(b.offset - offset, b.offset - offset + b.length), packId));
        } catch (err) {
          return Promise.reject(err as Error);
        }
      }),
    close: () => {},
  };
}

/**
 * Where the worker's module is: beside this one, or — from the bundled CLI (dist/bundle/) — in dist/'s tree. `from` is
 * the URL of the module asking (this one; a test passes a bundle chunk's).
 */
export function workerFile(from: string = import.meta.url): string | undefined {
  return findWorkerFile(from, ["./decode-worker.js", "../backup/formats/repository/decode-worker.js"]);
}

/** One blob's answer from the worker (several come in one message). */
export interface DecodeResult {
  ticket: number;
  plain?: ArrayBuffer;
  length?: number;
  error?: string;
  file?: string;
  integrity?: boolean;
}

interface Waiter {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/**
 * A decoder on one worker thread, or the inline one when no worker can start. The worker is unref'd: it never keeps
 * the process alive, and close() ends it. Should the worker die, what it held fails with a plain Error (the fetcher
 * then reads those blobs again and decodes them inline) and later reads are decoded inline.
 */
export function workerDecoder(key: CryptoKey, opts: { file?: string } = {}): BlobDecoder {
  const file = process.env.WORKSPACE_SYNC_DECODE_INLINE ? undefined : (opts.file ?? workerFile());
  if (!file || !existsSync(file)) return inlineDecoder(key);
  let worker: Worker;
  try {
    worker = new Worker(file);
  } catch {
    return inlineDecoder(key);
  }
  worker.unref();
  const inline = inlineDecoder(key);
  const waiting = new Map<number, Waiter>();
  let next = 0;
  let broken: Error | undefined;
  const failAll = (err: Error) => {
    broken ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    keepAlive();
  };
  // The file writer's use of the thread (filePort): its handlers, and whether it still needs the thread.
  let files: { onMessage: (m: unknown) => void; onStop: (err: Error) => void } | undefined;
  let filesOpen = false;
  let filesBusy = false;
  let closed = false;
  let ended = false;
  // The thread keeps the process alive only while it holds work (a blob to decode or a batch of files to write).
  let reffed = false;
  const keepAlive = () => {
    const want = !ended && (waiting.size > 0 || filesBusy);
    if (want === reffed) return;
    reffed = want;
    if (want) worker.ref();
    else worker.unref();
  };
  const end = () => {
    if (!closed || filesOpen || ended) return;
    ended = true;
    void worker.terminate();
  };
  const stopped = (err: Error) => {
    failAll(err);
    if (!ended) files?.onStop(err);
  };
  worker.on("message", (m: { results?: DecodeResult[] }) => {
    if (!m.results) return files?.onMessage(m);
    for (const r of m.results) {
      const w = waiting.get(r.ticket);
      if (!w) continue;
      waiting.delete(r.ticket);
      if (r.plain) w.resolve(Buffer.from(r.plain, 0, r.length));
      else w.reject(r.integrity ? new IntegrityError(r.error ?? "damaged blob", r.file ?? "data/") : new Error(r.error));
    }
    keepAlive();
  });
  worker.on("error", (err) => stopped(new Error(`the blob decoder stopped: ${err.message}`)));
  worker.on("exit", () => stopped(new Error("the blob decoder stopped")));
  worker.postMessage({ kind: "key", key: { encrypt: key.encrypt, macK: key.macK, macR: key.macR } });
  return {
    decode(packId, bytes, offset, blobs) {
      if (broken) return inline.decode(packId, bytes, offset, blobs);
      // The read's bytes in an ArrayBuffer of their own, handed over (a pooled or shared one is copied first).
      const own = ownsWholeBuffer(bytes) ? bytes.buffer : new Uint8Array(bytes).buffer;
      const jobs = blobs.map((blob) => ({ ticket: next++, blob }));
      const promises = jobs.map(
        (j) =>
          new Promise<Buffer>((resolve, reject) => {
            waiting.set(j.ticket, { resolve, reject });
          }),
      );
      worker.postMessage({ kind: "read", packId, bytes: own, offset, blobs: jobs }, [own]);
      keepAlive();
      return promises;
    },
    close() {
      failAll(new Error("the blob decoder was closed"));
      closed = true;
      end();
    },
    filePort() {
      if (closed || broken) return undefined;
      filesOpen = true;
      return {
        post: (message, transfer) => worker.postMessage(message, transfer),
        listen: (onMessage, onStop) => void (files = { onMessage, onStop }),
        busy: (working) => {
          filesBusy = working;
          keepAlive();
        },
        async end() {
          filesOpen = false;
          end();
        },
      };
    },
  };
}
