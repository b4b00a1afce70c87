// age payload: STREAM construction, 64 KiB chunks sealed with ChaCha20-Poly1305 under a key derived from
// the file key and a random 16-byte nonce. Encryption and decryption are Transform streams with bounded
// buffers (one chunk held back to tell the final chunk apart), fit for multi-GB snapshots.
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { claimHandedOver, handOver, ownsWholeBuffer, releaseBuffer } from "../../util/release-buffer.js";
import { corrupt, truncated } from "./errors.js";
import { encodeHeader, hkdf, parseHeader, scryptStanza, type Stanza, type Unlock, unwrapFileKey, x25519Stanza } from "./header.js";

const CHUNK = 64 * 1024;
/**
 * Opened chunks the decryptor passes on together (256 KiB). Each piece costs the next stages a pass through the stream
 * machinery and, for zstd, a round trip to the thread pool: passed on one by one, a 1 GiB archive restore made ~26,000
 * voluntary context switches and took 4.9–5.1 s into tmpfs; in 256 KiB pieces ~16,400 and 4.3 s, peak RSS 134–138
 * against 132 MiB (1 MiB pieces: ~12,000, no faster, 137–142 MiB). docs/performance.md, round of 2026-12-06 (13:07–).
 */
const CHUNKS_PER_PIECE = 4;
const TAG = 16;

function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6); // 11-byte big-endian counter (2^48 chunks = 16 EiB is plenty)
  nonce[11] = last ? 1 : 0;
  return nonce;
}

// Keys are KeyObjects: a raw Buffer key is imported again for every 64 KiB chunk, which doubles the cost of the cipher.
/** Seals one chunk into `out` at `offset` (ciphertext then tag); returns the bytes written. */
function sealInto(key: KeyObject, counter: number, last: boolean, plain: Buffer, out: Buffer, offset: number): number {
  const c = createCipheriv("chacha20-poly1305", key, chunkNonce(counter, last), { authTagLength: TAG });
  const n = c.update(plain).copy(out, offset);
  c.final();
  return n + c.getAuthTag().copy(out, offset + n);
}

function sealChunk(key: KeyObject, counter: number, last: boolean, plain: Buffer): Buffer {
  const out = Buffer.allocUnsafe(plain.length + TAG);
  sealInto(key, counter, last, plain, out, 0);
  return out;
}

function openChunk(key: KeyObject, counter: number, last: boolean, sealed: Buffer): Buffer | undefined {
  try {
    const d = createDecipheriv("chacha20-poly1305", key, chunkNonce(counter, last), { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    const out = d.update(sealed.subarray(0, sealed.length - TAG));
    d.final();
    return out;
  } catch {
    return undefined;
  }
}

/** Collects incoming buffers and hands out exact-size slices without concatenating everything. */
class ByteQueue {
  private parts: Buffer[] = [];
  /** Pieces handed over by the stage before (release-buffer.ts) and those of them read to their end. */
  private readonly owned = new Set<ArrayBufferLike>();
  private used: ArrayBufferLike[] = [];
  length = 0;
  push(b: Buffer, own = false): void {
    if (b.length) {
      this.parts.push(b);
      this.length += b.length;
      if (own) this.owned.add(b.buffer);
    }
  }
  /** Frees the handed-over pieces read to their end (call once no view taken from them is in use any more). */
  freeUsed(): void {
    for (const ab of this.used) releaseBuffer(new Uint8Array(ab));
    this.used = [];
  }
  private shift(): void {
    // A handed-over piece is its buffer's only view, read in order: once its last part leaves, all of it was read.
    const head = this.parts.shift()!;
    if (this.owned.delete(head.buffer)) this.used.push(head.buffer);
  }
  take(n: number): Buffer {
    const first = this.parts[0];
    if (first && first.length >= n) {
      // The common case (large upstream pieces): a view, no copy.
      if (first.length === n) this.shift();
      else this.parts[0] = first.subarray(n);
      this.length -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.parts[0]!;
      const need = n - filled;
      if (head.length <= need) {
        head.copy(out, filled);
        filled += head.length;
        this.shift();
      } else {
        head.copy(out, filled, 0, need);
        this.parts[0] = head.subarray(need);
        filled += need;
      }
    }
    this.length -= n;
    return out;
  }
  peekAll(): Buffer {
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
  }
}

export interface EncryptOptions {
  passphrase?: string;
  recipients?: string[];
  scryptWorkFactor?: number;
}

export function createAgeEncryptStream(opts: EncryptOptions): Transform {
  if (opts.passphrase === undefined && !opts.recipients?.length) throw new Error("age encryption needs a passphrase or at least one recipient");
  if (opts.passphrase !== undefined && opts.recipients?.length) throw new Error("age: a passphrase cannot be combined with recipients");
  const fileKey = randomBytes(16);
  // Recipient stanzas are made at once (a bad recipient fails here); the scrypt one is derived while data arrives.
  const made: Stanza[] = (opts.recipients ?? []).map((r) => x25519Stanza(fileKey, r));
  const ready: Promise<Stanza[]> = opts.passphrase !== undefined ? scryptStanza(fileKey, opts.passphrase, opts.scryptWorkFactor).then((s) => [s]) : Promise.resolve(made);
  ready.catch(() => {}); // surfaced by the first transform or flush
  let stanzas: Stanza[] | undefined;
  const nonce = randomBytes(16);
  const key = createSecretKey(hkdf(fileKey, nonce, "payload"));
  const queue = new ByteQueue();
  let counter = 0;
  /** Runs `then` once the header is out (the first call waits for the key derivation). */
  const started = (t: Transform, cb: TransformCallback, then: () => void) => {
    if (stanzas) return then();
    ready.then(
      (s) => {
        if (!stanzas) {
          stanzas = s;
          t.push(encodeHeader(fileKey, stanzas));
          t.push(nonce);
        }
        then();
      },
      (err: unknown) => cb(err as Error),
    );
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      started(this, cb, () => {
        queue.push(chunk);
        // Hold back one full chunk: only the end of the input tells whether it is the last. The sealed chunks of one
        // input piece leave as one buffer: fewer, larger pieces for the hash and the pipe to rclone (measured faster
        // than pushing each ciphertext and tag on its own).
        const n = Math.max(0, Math.ceil((queue.length - CHUNK) / CHUNK));
        if (n > 0) {
          const out = Buffer.allocUnsafe(n * (CHUNK + TAG));
          for (let i = 0; i < n; i++) sealInto(key, counter++, false, queue.take(CHUNK), out, i * (CHUNK + TAG));
          this.push(out);
        }
        cb();
      });
    },
    flush(cb: TransformCallback) {
      started(this, cb, () => {
        this.push(sealChunk(key, counter++, true, queue.take(queue.length)));
        cb();
      });
    },
  });
}

export function createAgeDecryptStream(unlock: Unlock): Transform {
  const queue = new ByteQueue();
  let key: KeyObject | undefined;
  let nonceRead = false;
  let fileKey: Buffer | undefined;
  let counter = 0;
  const openNext = (): Buffer => {
    const plain = openChunk(key!, counter, false, queue.take(CHUNK + TAG));
    if (!plain) throw corrupt();
    counter++;
    return plain;
  };
  const openInto = (piece: Buffer, n: number): Buffer => {
    for (let i = 0; i < n; i++) {
      const plain = openNext();
      plain.copy(piece, i * CHUNK);
      // Freed at once: thousands of 64 KiB buffers otherwise wait for the collector (~5 MiB more at a 1 GiB restore's peak).
      if (ownsWholeBuffer(plain)) releaseBuffer(plain);
    }
    return piece;
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        // A stored piece handed over (the read of the object) is freed once every chunk it held was opened.
        queue.push(chunk, claimHandedOver(chunk));
        if (!fileKey) {
          const header = parseHeader(queue.peekAll());
          if (!header) return cb();
          fileKey = unwrapFileKey(header, unlock);
          queue.take(header.length);
        }
        if (!nonceRead) {
          if (queue.length < 16) return cb();
          key = createSecretKey(hkdf(fileKey, queue.take(16), "payload"));
          nonceRead = true;
        }
        // Every chunk but the last one held back (it may be the final chunk, which opens differently).
        let ready = Math.max(0, Math.ceil((queue.length - CHUNK - TAG) / (CHUNK + TAG)));
        while (ready > 0) {
          const n = Math.min(CHUNKS_PER_PIECE, ready);
          ready -= n;
          // The cipher's output (or the piece the opened chunks were copied into) is read by no one else: the next
          // stage may free it once consumed (release-buffer.ts).
          this.push(handOver(n === 1 ? openNext() : openInto(Buffer.allocUnsafeSlow(n * CHUNK), n)));
        }
        queue.freeUsed();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      if (!fileKey || !nonceRead || queue.length < TAG) return cb(truncated());
      const rest = queue.take(queue.length);
      const plain = openChunk(key!, counter, true, rest);
      if (plain) {
        queue.freeUsed();
        // Only the very first chunk may be empty (empty plaintext).
        if (plain.length === 0 && counter > 0) return cb(corrupt());
        this.push(plain);
        return cb();
      }
      // A chunk that only opens as non-final means the real final chunk is missing.
      if (openChunk(key!, counter, false, rest)) return cb(truncated());
      // Neither: a chunk cut in the middle or a modified byte; both mean the data cannot be trusted.
      cb(corrupt("the encrypted data is truncated or corrupted: the snapshot cannot be trusted"));
    },
  });
}
