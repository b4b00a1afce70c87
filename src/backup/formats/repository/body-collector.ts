// An HTTP/2 response body collected from its DATA chunks (the rclone transport's answers: pack reads of several MiB,
// listings, small files), whole or piece by piece.
import type { ReadPieces } from "./storage.js";

/** Larger announced bodies are collected chunk by chunk (nothing this big is read at once; a guard against a bad header). */
export const MAX_PREALLOCATED_BODY = 256 << 20;

/**
 * Collects a response body. With its length announced, the bytes go straight into one buffer of that length: a pack
 * read of several MiB is then held once, not as its HTTP/2 chunks plus their joined copy (twice, at the join).
 */
export class BodyCollector {
  private chunks: Buffer[] = [];
  private buf: Buffer | undefined;
  private filled = 0;

  /** The announced length (the answer's headers can come after its first bytes: those move into the buffer). */
  expect(length: number): void {
    if (this.buf || !Number.isSafeInteger(length) || length <= 0 || length > MAX_PREALLOCATED_BODY) return;
    const early = this.chunks;
    if (early.reduce((n, c) => n + c.length, 0) > length) return;
    this.buf = Buffer.allocUnsafeSlow(length);
    this.chunks = [];
    for (const c of early) this.add(c);
  }

  add(chunk: Buffer): void {
    if (this.buf && this.filled + chunk.length <= this.buf.length) {
      chunk.copy(this.buf, this.filled);
      this.filled += chunk.length;
      return;
    }
    if (this.buf) {
      // Longer than announced: keep everything as chunks (the caller's length checks decide).
      this.chunks.push(this.buf.subarray(0, this.filled));
      this.buf = undefined;
    }
    this.chunks.push(chunk);
  }

  done(): Buffer {
    if (this.buf) return this.filled === this.buf.length ? this.buf : Buffer.from(this.buf.subarray(0, this.filled));
    return Buffer.concat(this.chunks);
  }
}

/**
 * Collects a ranged read's body into its pieces (storage.ts LoadOptions.pieces): each piece in a buffer of its own,
 * handed out once complete, skipped pieces never kept. Memory is then the piece being filled, not the read.
 */
export class PieceCollector {
  private index = 0;
  private buf: Buffer | undefined;
  private filled = 0;

  constructor(private readonly pieces: ReadPieces) {}

  add(chunk: Buffer): void {
    const { lengths, skip, onPiece } = this.pieces;
    for (let at = 0; at < chunk.length; ) {
      // Bytes beyond the last piece (an answer longer than asked) are nobody's.
      if (this.index >= lengths.length) return;
      const length = lengths[this.index]!;
      const skipped = skip?.[this.index] === true;
      const take = Math.min(length - this.filled, chunk.length - at);
      if (!skipped) {
        this.buf ??= Buffer.allocUnsafeSlow(length);
        chunk.copy(this.buf, this.filled, at, at + take);
      }
      this.filled += take;
      at += take;
      if (this.filled === length) {
        const piece = this.buf;
        this.buf = undefined;
        this.filled = 0;
        onPiece(this.index++, skipped ? undefined : piece);
      }
    }
  }
}
