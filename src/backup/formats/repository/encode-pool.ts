// Blob encoding (zstd, AES-CTR, Poly1305 — most of a first backup's CPU) on a worker thread, so it runs beside the
// main thread's reading, chunking and hashing instead of after it: on two cores that roughly halves the wall time of
// a backup of new data. The plaintext goes to the worker in a buffer of its own (transferred) and the sealed blob comes
// back the same way. Where no worker can start (an embedder that forbids them, the sources run without a build),
// encoding runs on the calling thread: slower, never different.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { CryptoKey } from "./crypto.js";
import { releaseBuffer } from "../../../util/release-buffer.js";
import { encodeBlob } from "./pack.js";

export interface EncodedBlob {
  sealed: Buffer;
  uncompressedLength: number;
}

export interface BlobEncoder {
  /** Encodes a plaintext the caller hands over in a buffer of its own (freed once encoded: not to be used afterwards). */
  encode(plain: Uint8Array, compress: boolean, level: number): Promise<EncodedBlob>;
  close(): void;
}

export function inlineEncoder(key: CryptoKey): BlobEncoder {
  return {
    encode: (plain, compress, level) => {
      try {
        const encoded = encodeBlob(key, plain, compress, level);
        releaseBuffer(plain); // handed over by the caller, in a buffer of its own
        return Promise.resolve(encoded);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    close: () => {},
  };
}

function workerFile(): string | undefined {
  const here = new URL(import.meta.url);
  for (const rel of ["./encode-worker.js", "../backup/formats/repository/encode-worker.js"]) {
    const file = fileURLToPath(new URL(rel, here));
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** One worker thread (unref'd: it never keeps the process alive); should it die, the rest is encoded inline. */
export function workerEncoder(key: CryptoKey): BlobEncoder {
  const file = process.env.WORKSPACE_SYNC_ENCODE_INLINE ? undefined : workerFile();
  const inline = inlineEncoder(key);
  if (!file) return inline;
  let worker: Worker;
  try {
    worker = new Worker(file);
  } catch {
    return inline;
  }
  worker.unref();
  const waiting = new Map<number, { resolve: (b: EncodedBlob) => void; reject: (e: Error) => void }>();
  let next = 0;
  let broken = false;
  // What the worker held fails the run (its plaintexts went with it); later blobs are encoded here.
  const failAll = (err?: Error) => {
    broken = true;
    for (const w of waiting.values()) w.reject(new Error(`the blob encoder stopped${err ? `: ${err.message}` : ""}`));
    waiting.clear();
  };
  worker.on("message", (m: { ticket: number; sealed?: ArrayBuffer; length?: number; uncompressedLength?: number; error?: string }) => {
    const w = waiting.get(m.ticket);
    if (!w) return;
    waiting.delete(m.ticket);
    if (m.sealed) w.resolve({ sealed: Buffer.from(m.sealed, 0, m.length), uncompressedLength: m.uncompressedLength ?? 0 });
    else w.reject(new Error(m.error ?? "the blob encoder failed"));
  });
  worker.on("error", failAll);
  worker.on("exit", () => failAll());
  worker.postMessage({ kind: "key", key: { encrypt: key.encrypt, macK: key.macK, macR: key.macR } });
  return {
    encode(plain, compress, level) {
      if (broken) return inline.encode(plain, compress, level);
      const own = plain.byteOffset === 0 && plain.buffer.byteLength === plain.length && plain.buffer instanceof ArrayBuffer ? plain.buffer : new Uint8Array(plain).buffer;
      const ticket = next++;
      return new Promise<EncodedBlob>((resolve, reject) => {
        waiting.set(ticket, { resolve, reject });
        worker.postMessage({ kind: "encode", ticket, plain: own, length: plain.length, compress, level }, [own]);
      });
    },
    close() {
      broken = true;
      void worker.terminate();
    },
  };
}
