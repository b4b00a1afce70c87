// Blob encoding (zstd, AES-CTR, Poly1305 — most of a first backup's CPU) on a worker thread, so it runs beside the
// main thread's reading, chunking and hashing instead of after it: on two cores that roughly halves the wall time of
// a backup of new data. The plaintext goes to the worker in a buffer of its own (transferred) and the sealed blob comes
// back the same way. Where no worker can start (an embedder that forbids them, the sources run without a build),
// encoding runs on the calling thread: slower, never different.
import { Worker } from "node:worker_threads";
import type { CryptoKey } from "./crypto.js";
import { encodeBlob } from "./pack.js";
import { TransferPool } from "../../../util/transfer-pool.js";
import { findWorkerFile } from "../../../util/worker-file.js";

export interface EncodedBlob {
  sealed: Buffer;
  uncompressedLength: number;
}

export interface BlobEncoder {
  /** Encodes a plaintext; the caller may reuse its memory as soon as this returns (what the encoder keeps, it copies). */
  encode(plain: Uint8Array, compress: boolean, level: number): Promise<EncodedBlob>;
  close(): void;
}

export function inlineEncoder(key: CryptoKey): BlobEncoder {
  return {
    encode: (plain, compress, level) => {
      try {
        return Promise.resolve(encodeBlob(key, plain, compress, level)); // read before this returns: nothing kept
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    close: () => {},
  };
}

function workerFile(): string | undefined {
  return findWorkerFile(import.meta.url, ["./encode-worker.js", "../backup/formats/repository/encode-worker.js"]);
}

/** New data encoded inline before the worker starts: a run with a few changed files never pays for a thread. */
export const WORKER_AFTER_BYTES = 8 << 20;

/** Where blobs are encoded now: on this thread (before the threshold, or without a worker), starting one, or on it. */
export type EncoderMode = "inline" | "starting" | "thread";

export interface StagedEncoder extends BlobEncoder {
  mode(): EncoderMode;
}

/**
 * Encodes inline until `startAfter` bytes went through, then on a worker thread (workerThread). A few changed files
 * cost ~0.1 s less this way (a thread, its modules); a first backup loses the worker's help for its first 8 MiB.
 * `notBefore`: no thread before it settles (a repository being created: its key's scrypt holds 32 MiB meanwhile, and
 * a thread's isolate on top of that was the run's peak memory).
 */
export function workerEncoder(
  key: CryptoKey,
  startAfter = WORKER_AFTER_BYTES,
  file = process.env.WORKSPACE_SYNC_ENCODE_INLINE ? undefined : workerFile(),
  notBefore?: Promise<unknown>,
): StagedEncoder {
  const inline = inlineEncoder(key);
  let seen = 0;
  let thread: StagedEncoder | undefined;
  let allowed = !notBefore;
  void notBefore?.then(
    () => (allowed = true),
    () => (allowed = true),
  );
  return {
    encode(plain, compress, level) {
      if (!thread) {
        seen += plain.length;
        if (seen <= startAfter || !allowed) return inline.encode(plain, compress, level);
        thread = workerThread(key, file);
      }
      return thread.encode(plain, compress, level);
    },
    mode: () => (thread ? thread.mode() : "inline"),
    close() {
      thread?.close();
    },
  };
}

/** Plaintexts go to the worker in batches of this many bytes (a larger chunk alone): one message per batch. */
export const BATCH_BYTES = 256 << 10;
/** Blobs in one batch at most. */
const BATCH_BLOBS = 64;

interface BatchBlob {
  ticket: number;
  offset: number;
  length: number;
  compress: boolean;
  level: number;
}

/** The worker's answer to a batch: each blob's sealed bytes (a buffer of its own each) or its error. */
interface BatchReply {
  plain: ArrayBuffer;
  results: { ticket: number; sealed?: ArrayBuffer; length?: number; uncompressedLength?: number; error?: string }[];
}

/**
 * One worker thread (unref'd: it never keeps the process alive); should it die, the rest is encoded inline. Until it
 * has started (~0.1 s: a thread, its modules) blobs are encoded inline too, so nothing waits for it. Plaintexts are
 * copied into a batch buffer and sent when it is full or when the event loop next turns (the caller awaits something):
 * a message per blob cost the two threads ~0.1 ms each, 2 s of CPU over the 20,000 small files of a 1 GiB backup.
 */
function workerThread(key: CryptoKey, file: string | undefined): StagedEncoder {
  const inline = inlineEncoder(key);
  const alone: StagedEncoder = { ...inline, mode: () => "inline" };
  if (!file) return alone;
  let worker: Worker;
  try {
    worker = new Worker(file);
  } catch {
    return alone;
  }
  worker.unref();
  const waiting = new Map<number, { resolve: (b: EncodedBlob) => void; reject: (e: Error) => void }>();
  let next = 0;
  let broken = false;
  let ready = false;
  // What the worker held fails the run (its plaintexts went with it); later blobs are encoded here.
  const failAll = (err?: Error) => {
    broken = true;
    batch = undefined;
    for (const w of waiting.values()) w.reject(new Error(`the blob encoder stopped${err ? `: ${err.message}` : ""}`));
    waiting.clear();
  };
  // The batch buffers travel to the worker and back, and are filled again (transfer-pool.ts).
  const copies = new TransferPool(2 << 20);
  let batch: { buffer: ArrayBuffer; used: number; blobs: BatchBlob[] } | undefined;
  let flushQueued = false;
  const send = () => {
    flushQueued = false;
    if (!batch || broken) return;
    const { buffer, blobs } = batch;
    batch = undefined;
    worker.postMessage({ kind: "batch", plain: buffer, blobs }, [buffer]);
  };
  worker.on("message", (m: { ready?: true } & Partial<BatchReply>) => {
    if (m.ready) {
      ready = true;
      return;
    }
    if (m.plain) copies.give(m.plain);
    for (const r of m.results ?? []) {
      const w = waiting.get(r.ticket);
      if (!w) continue;
      waiting.delete(r.ticket);
      if (r.sealed) w.resolve({ sealed: Buffer.from(r.sealed, 0, r.length), uncompressedLength: r.uncompressedLength ?? 0 });
      else w.reject(new Error(r.error ?? "the blob encoder failed"));
    }
  });
  worker.on("error", failAll);
  worker.on("exit", () => failAll());
  worker.postMessage({ kind: "key", key: { encrypt: key.encrypt, macK: key.macK, macR: key.macR } });
  return {
    encode(plain, compress, level) {
      if (broken || !ready) return inline.encode(plain, compress, level);
      if (batch && (batch.used + plain.length > batch.buffer.byteLength || batch.blobs.length >= BATCH_BLOBS)) send();
      batch ??= { buffer: copies.take(Math.max(BATCH_BYTES, plain.length)), used: 0, blobs: [] };
      new Uint8Array(batch.buffer, batch.used, plain.length).set(plain);
      const ticket = next++;
      batch.blobs.push({ ticket, offset: batch.used, length: plain.length, compress, level });
      batch.used += plain.length;
      const result = new Promise<EncodedBlob>((resolve, reject) => waiting.set(ticket, { resolve, reject }));
      if (batch.used >= BATCH_BYTES) send();
      else if (!flushQueued) {
        // Sent at the latest when the event loop turns: the caller awaits an answer or yields, never a batch held back.
        flushQueued = true;
        setImmediate(send);
      }
      return result;
    },
    mode: () => (broken ? "inline" : ready ? "thread" : "starting"),
    close() {
      broken = true;
      batch = undefined;
      copies.clear();
      void worker.terminate();
    },
  };
}
