// The boundary search shared by both implementations of restic's chunker.
//
// restic (github.com/restic/chunker v0.4.0, used by restic 0.14, and its HEAD) resets the 64-byte window at every
// chunk start, skips the first MinSize-64 bytes without hashing them, then hashes byte by byte and cuts after the byte
// at which the chunk has n >= MinSize bytes and (digest & mask) == 0, or n == MaxSize. At n == MinSize the byte-1
// marker restic slides in at reset has left the window, so from there on the digest is exactly the Rabin fingerprint
// of the chunk's last 64 bytes. A cut test therefore needs no state but those 64 bytes: the cores look for the first
// window end whose fingerprint passes, and the WASM core searches several stretches of a buffer at once.

/** One implementation of the fingerprint search. Stateless: every call starts from the 64 bytes before `lo`. */
export interface RabinCore {
  readonly kind: "js" | "wasm";
  /**
   * The first c in [lo, hi] for which the fingerprint of buf[c-64..c) has the split bits clear (a cut after byte
   * c-1), or -1. Needs lo >= 64 and hi <= buf.length.
   */
  find(buf: Uint8Array, lo: number, hi: number): number;
}
