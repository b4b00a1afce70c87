// An HTTP/2 response body collected from its DATA chunks (the rclone transport's answers: pack reads of several MiB,
// listings, small files).

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

  /** The buffer being filled and how many of its bytes have arrived; undefined while the bytes are kept as chunks. */
  get filling(): { buf: Buffer; filled: number } | undefined {
    return this.buf ? { buf: this.buf, filled: this.filled } : undefined;
  }

  done(): Buffer {
    if (this.buf) return this.filled === this.buf.length ? this.buf : Buffer.from(this.buf.subarray(0, this.filled));
    return Buffer.concat(this.chunks);
  }
}
