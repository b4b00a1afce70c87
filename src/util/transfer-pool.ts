// Buffers that travel to a worker thread and come back. A first backup copies every new chunk into memory of its own
// to hand it to the encoder's thread (a restore its small files to the decoder's thread): a fresh allocation per
// batch would be faulted in page by page (~15 µs a page on a VM; a sixth of a first backup's page faults). The worker
// returns each buffer with its answer and the next batch of a similar size is copied into it. Sizes are rounded up to powers of two so that buffers fit many chunks.
import { releaseBuffer } from "./release-buffer.js";

const MIN_CLASS = 16 << 10;

/** The size a buffer for `length` bytes gets: the next power of two, at least 16 KiB. */
export function sizeClass(length: number): number {
  let c = MIN_CLASS;
  while (c < length) c *= 2;
  return c;
}

export class TransferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private keptBytes = 0;

  constructor(
    /** Free memory kept for reuse at most; buffers beyond it are freed when they come back. */
    private readonly maxBytes = 8 << 20,
    private readonly perClass = 2,
  ) {}

  get kept(): number {
    return this.keptBytes;
  }

  /** A buffer of at least `length` bytes (its contents are whatever the last user left: write before reading). */
  take(length: number): ArrayBuffer {
    const c = sizeClass(length);
    const ab = this.free.get(c)?.pop();
    if (ab) {
      this.keptBytes -= c;
      return ab;
    }
    return Buffer.allocUnsafeSlow(c).buffer as ArrayBuffer;
  }

  /** Takes a buffer back (one that take() gave out: other sizes, and any beyond the limits, are freed now). */
  give(ab: ArrayBuffer): void {
    const c = ab.byteLength;
    const list = this.free.get(c) ?? [];
    if (c !== sizeClass(c) || list.length >= this.perClass || this.keptBytes + c > this.maxBytes) {
      releaseBuffer(new Uint8Array(ab));
      return;
    }
    list.push(ab);
    this.free.set(c, list);
    this.keptBytes += c;
  }

  /** Frees everything kept. */
  clear(): void {
    for (const list of this.free.values()) for (const ab of list) releaseBuffer(new Uint8Array(ab));
    this.free.clear();
    this.keptBytes = 0;
  }
}
