// Frees a buffer's memory now instead of at some later garbage collection. Node allocates the memory behind a Buffer
// outside V8's heap and returns it only when the collector finds the Buffer dead; a stream that drops a buffer per
// chunk leaves tens of MiB waiting for that (and glibc keeps much of it afterwards). Detaching the ArrayBuffer
// (`transfer(0)`) releases its memory at once. (Node's shared pool, which small Buffers slice, cannot be detached:
// Node 24 refuses, and these functions then leave it to the collector.)

/** Whether `buf` is the one view of a whole ArrayBuffer of its own (not a slice of a pool or of a larger read). */
export function ownsWholeBuffer(buf: Uint8Array): buf is Uint8Array<ArrayBuffer> {
  return buf.buffer instanceof ArrayBuffer && buf.byteOffset === 0 && buf.buffer.byteLength === buf.length;
}

/**
 * Frees the memory of `buf`'s whole ArrayBuffer now, whatever its size. Only for a buffer the caller owns alone
 * (nothing else holds it or a view of it: a cipher's or zlib's output, a read the storage handed out, a plaintext
 * transferred to a worker): every view of it reads as empty afterwards. Thousands of small files each drop such
 * buffers; left to the collector they pile up between its full collections.
 */
export function releaseBuffer(buf: Uint8Array): void {
  const ab = buf.buffer;
  if (ab instanceof ArrayBuffer) detach(ab);
}

// The very Buffer objects handed over, not their memory: a view of one (a slice a later stage cut from it) is another
// object and frees nothing, so no stage can free memory another still reads.
const handedOver = new WeakSet<Uint8Array>();

/**
 * A producer hands `buf` to one consumer for good: `buf` is the only view of memory of its own, which nothing else
 * will read. The consumer may then free it as soon as it is done (freeHandedOver). Returns `buf`.
 */
export function handOver<T extends Uint8Array>(buf: T): T {
  if (buf.buffer instanceof ArrayBuffer && buf.byteOffset === 0 && buf.byteLength > 0) handedOver.add(buf);
  return buf;
}

/** Takes over `buf` if its producer handed it over (true: the caller now frees it, with releaseBuffer, when done). */
export function claimHandedOver(buf: Uint8Array): boolean {
  return handedOver.delete(buf);
}

/** The consumer is done with `buf`: frees its memory now if its producer handed it over, else leaves it be. */
export function freeHandedOver(buf: Uint8Array): void {
  if (handedOver.delete(buf)) {
    if (buf.buffer instanceof ArrayBuffer) detach(buf.buffer);
    return;
  }
  const lease = lentViews.get(buf);
  if (!lease) return;
  lentViews.delete(buf);
  lease.viewFreed();
}

// Views lent out of a handed-over buffer, each to the consumer that frees it (freeHandedOver) when done.
const lentViews = new WeakMap<Uint8Array, Lease>();

/**
 * A handed-over buffer cut into views for several consumers (a decoded chunk holding many small files): its memory is
 * freed once its holder let go (`release`) and every view lent out was freed by its consumer. A view never freed
 * (a consumer that only reads, an error on the way) leaves the buffer to the collector, as before.
 */
export class Lease {
  private views = 0;
  private held = true;

  constructor(private readonly buf: Uint8Array) {}

  /** A view of the buffer, for a consumer that frees it (freeHandedOver) when done with it. */
  lend(start: number, end: number): Buffer {
    const view = Buffer.from(this.buf.buffer, this.buf.byteOffset + start, end - start);
    this.views++;
    lentViews.set(view, this);
    return view;
  }

  /** The holder will cut no more views, nor read the buffer again. */
  release(): void {
    this.held = false;
    this.freeIfDone();
  }

  viewFreed(): void {
    this.views--;
    this.freeIfDone();
  }

  private freeIfDone(): void {
    if (!this.held && this.views === 0) releaseBuffer(this.buf);
  }
}

function detach(ab: ArrayBuffer): void {
  if (ab.detached) return;
  try {
    ab.transfer(0);
  } catch {
    // memory an embedder or Node marked untransferable (Node's pool): the collector frees it as before
  }
}
