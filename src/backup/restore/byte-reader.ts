// Pull-style reading of a chunked byte stream: exact-size reads (headers), pieces of a given length handed out
// without copying (file contents), skips. The tar source reads the decoded snapshot through it.
//
// A chunk its producer handed over (util/release-buffer.ts) is freed as soon as the reader has moved past it and every
// piece cut from it was freed by its consumer (the restore writer frees each piece once written): thousands of small
// files per GiB otherwise keep decoded chunks alive until the collector's next full collection.
import { claimHandedOver, Lease } from "../../util/release-buffer.js";

export class ByteReader {
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private lease: Lease | undefined;
  private done = false;
  private readonly it: AsyncIterator<Buffer>;
  /** Bytes consumed so far (for error messages). */
  offset = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Makes at least one unread byte available; false at the end of the stream. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.done) return false;
      this.letGo();
      const next = await this.it.next();
      if (next.done) {
        this.done = true;
        return false;
      }
      this.chunk = next.value;
      this.lease = claimHandedOver(this.chunk) ? new Lease(this.chunk) : undefined;
      this.pos = 0;
    }
    return true;
  }

  /** The current chunk is done with: freed once the pieces cut from it are. */
  private letGo(): void {
    this.lease?.release();
    this.lease = undefined;
  }

  /**
   * Exactly n bytes (copied when they span chunks, or when the chunk is freed once read: a header must stay readable
   * after the reader moved on), or undefined when the stream ends first.
   */
  async exact(n: number): Promise<Buffer | undefined> {
    if (this.pos + n <= this.chunk.length && !this.lease) {
      const out = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let have = 0;
    while (have < n) {
      if (!(await this.fill())) return undefined;
      const take = Math.min(n - have, this.chunk.length - this.pos);
      this.chunk.copy(out, have, this.pos, this.pos + take);
      this.pos += take;
      have += take;
    }
    this.offset += n;
    return out;
  }

  /** The next piece of at most max bytes (a view, no copy), or undefined at the end of the stream. */
  async piece(max: number): Promise<Buffer | undefined> {
    if (!(await this.fill())) return undefined;
    const take = Math.min(max, this.chunk.length - this.pos);
    const out = this.lease ? this.lease.lend(this.pos, this.pos + take) : this.chunk.subarray(this.pos, this.pos + take);
    this.pos += take;
    this.offset += take;
    return out;
  }

  /** Skips n bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) break;
      const take = Math.min(left, this.chunk.length - this.pos);
      this.pos += take;
      left -= take;
    }
    this.offset += n - left;
    return n - left;
  }
}
