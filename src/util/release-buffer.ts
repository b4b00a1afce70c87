// Frees a large buffer's memory now instead of at some later garbage collection. Node allocates the memory behind a
// Buffer outside V8's heap and returns it only when the collector finds the Buffer dead; a stream that drops a 1 MiB
// buffer per chunk leaves tens of MiB waiting for that (and glibc keeps much of it afterwards). Detaching the
// ArrayBuffer (`transfer(0)`) releases its memory at once.


/**
 * Frees the memory of `buf`'s whole ArrayBuffer now. Only for a buffer the caller owns alone (nothing else holds it or
 * a view of it): every view of it reads as empty afterwards. Small buffers and shared memory are left to the collector.
 */
export function releaseBuffer(buf: Uint8Array): void {
  const ab = buf.buffer;
  // Up to Buffer.poolSize (64 KiB in Node 24) the memory may be Node's shared pool, which other Buffers slice.
  if (!(ab instanceof ArrayBuffer) || ab.byteLength <= Buffer.poolSize || ab.detached) return;
  try {
    ab.transfer(0);
  } catch {
    // memory an embedder or Node marked untransferable: the collector frees it as before
  }
}
