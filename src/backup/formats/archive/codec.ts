// The transform stages between the tar stream and the stored object: compression (zstd, gzip or none), and a
// SHA-256 tap that counts and hashes exactly the bytes stored, so the manifest can vouch for the object.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import zlib from "node:zlib";
import type { Compression } from "../../../config/types.js";
import { handOver } from "../../../util/release-buffer.js";
import type { BufferPool } from "./buffer-pool.js";
import { createParallelZstdCompressor, createZstdFramesDecompressor } from "./zstd-frames.js";

/** Node 24 ships zstd in zlib; older runtimes fall back to gzip. */
export function zstdAvailable(): boolean {
  return typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === "function";
}

export function effectiveCompression(wanted: Compression): Compression {
  return wanted === "zstd" && !zstdAvailable() ? "gzip" : wanted;
}

const CHUNK = 1 << 20;

export function createCompressor(compression: Compression, opts: { pool?: BufferPool } = {}): Transform | undefined {
  switch (compression) {
    case "none":
      return undefined;
    case "gzip":
      return zlib.createGzip({ level: 6, chunkSize: CHUNK });
    case "zstd":
      return createParallelZstdCompressor({ level: 3, ...opts });
  }
}

/** `handOver`: each decoded chunk is a buffer of its own, handed over to the reader (release-buffer.ts), which frees it. */
export function createDecompressor(compression: Compression, opts: { handOver?: boolean } = {}): Transform | undefined {
  switch (compression) {
    case "none":
      return undefined;
    case "gzip":
      return zlib.createGunzip({ chunkSize: CHUNK });
    case "zstd":
      if (!zstdAvailable()) throw new Error("this Node.js has no zstd support: restore with Node.js 24 or newer");
      return createZstdFramesDecompressor(opts);
  }
}

/** Passes bytes through unchanged while hashing and counting them. */
export class HashTap extends Transform {
  private readonly hash: Hash = createHash("sha256");
  bytes = 0;
  private hex?: string;

  /**
   * `handsOver`: the pieces are the source's own buffers, which the next stage may free once read (release-buffer.ts).
   * `hashes` false: the bytes are only counted (someone else hashes them, util/file-digest.ts).
   */
  constructor(
    private readonly onBytes?: (total: number) => void,
    private readonly handsOver = false,
    private readonly hashes = true,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.hashes) this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    cb(null, this.handsOver ? handOver(chunk) : chunk);
  }

  /** Final SHA-256 (hex); call once the stream has ended. */
  digest(): string {
    this.hex ??= this.hash.digest("hex");
    return this.hex;
  }
}

/**
 * Copies a stream's pieces into buffers of its own (`size` each, the last one shorter), each handed over
 * (release-buffer.ts): for a source whose pieces may be views of shared memory (a pipe's reads), so that the stages
 * after it can free what they consumed instead of leaving it to the collector. One copy per byte (~0.1 s per GiB).
 */
export function createOwnedChunks(size = CHUNK): Transform {
  let buf: Buffer | undefined;
  let filled = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      for (let pos = 0; pos < chunk.length; ) {
        buf ??= Buffer.allocUnsafeSlow(size);
        const n = chunk.copy(buf, filled, pos);
        filled += n;
        pos += n;
        if (filled === size) {
          this.push(handOver(buf));
          buf = undefined;
          filled = 0;
        }
      }
      cb();
    },
    flush(cb: TransformCallback) {
      if (buf && filled) this.push(handOver(buf.subarray(0, filled)));
      buf = undefined;
      cb();
    },
  });
}

/** Escapes rclone-glob metacharacters so a literal path can be used as an (anchored) exclude. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[\\*?[\]{}]/g, "\\$&");
}

/**
 * Coalesces the tar stream's many small pieces (512-byte headers, small files) into ~1 MiB buffers: each write to
 * a zlib or cipher stage has a fixed cost, so feeding them tiny chunks costs more than the compression itself.
 */
export function createRechunker(size = CHUNK): Transform {
  let parts: Buffer[] = [];
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (length === 0 && chunk.length >= size) return cb(null, chunk);
      parts.push(chunk);
      length += chunk.length;
      if (length >= size) {
        this.push(Buffer.concat(parts, length));
        parts = [];
        length = 0;
      }
      cb();
    },
    flush(cb: TransformCallback) {
      if (length) this.push(Buffer.concat(parts, length));
      cb();
    },
  });
}
