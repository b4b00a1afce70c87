// restic's authenticated encryption: AES-256-CTR, then Poly1305-AES over the ciphertext only
// (restic internal/crypto/crypto.go). Stored form: nonce(16) || ciphertext || tag(16).
// The one-time Poly1305 key is r || AES-128_k(nonce); r is clamped (restic 0.14 clamped and stored it clamped,
// newer versions leave clamping to poly1305.Sum: the same tags either way).
import { type Cipheriv, type Decipheriv, createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomFillSync, timingSafeEqual } from "node:crypto";
import { poly1305 } from "./poly1305.js";
import { releaseBuffer } from "../../../util/release-buffer.js";

export const NONCE_BYTES = 16;
export const TAG_BYTES = 16;
/** Bytes encryption adds to a plaintext. */
export const EXTENSION = NONCE_BYTES + TAG_BYTES;

/** A repository master key (or a user key derived from a password): 32-byte AES key, MAC keys k and r. */
export interface CryptoKey {
  encrypt: Buffer;
  macK: Buffer;
  macR: Buffer;
}

/** Thrown when a MAC does not verify: wrong key, or the bytes were changed. */
export class AuthenticationError extends Error {
  constructor(message = "ciphertext verification failed") {
    super(message);
    this.name = "AuthenticationError";
  }
}

const R_MASK = Buffer.from("ffffff0ffcffff0ffcffff0ffcffff0f", "hex");

export function clampR(r: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = r[i]! & R_MASK[i]!;
  return out;
}

function allZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

/** restic refuses keys with an all-zero encryption key, k or r. */
export function keyIsValid(key: CryptoKey): boolean {
  return key.encrypt.length === 32 && key.macK.length === 16 && key.macR.length === 16 && !allZero(key.encrypt) && !allZero(key.macK) && !allZero(key.macR);
}

/** A fresh random master key (r stored clamped, as restic 0.14 does). */
export function newRandomKey(): CryptoKey {
  const raw = randomFillSync(Buffer.alloc(64));
  const key = { encrypt: raw.subarray(0, 32), macK: raw.subarray(32, 48), macR: clampR(raw.subarray(48, 64)) };
  return keyIsValid(key) ? key : newRandomKey();
}

/** The 64 bytes scrypt derives: encrypt(32) || k(16) || r(16). */
export function keyFromKdfOutput(raw: Buffer): CryptoKey {
  if (raw.length !== 64) throw new Error("a derived key must be 64 bytes");
  return { encrypt: raw.subarray(0, 32), macK: raw.subarray(32, 48), macR: clampR(raw.subarray(48, 64)) };
}

interface KeyObjects {
  encrypt: KeyObject;
  /** AES-128 in ECB mode with the MAC key, for each nonce's one block (see macKey). */
  macBlock: Cipheriv;
}

/**
 * The key's AES keys as KeyObjects, made once per key: a cipher made from raw key bytes builds a new KeyObject each
 * time, which cost ~10% of reading a repository (two per blob).
 */
const keyObjects = new WeakMap<CryptoKey, KeyObjects>();
function objectsOf(key: CryptoKey): KeyObjects {
  let o = keyObjects.get(key);
  if (!o) {
    const macBlock = createCipheriv("aes-128-ecb", createSecretKey(key.macK), null);
    macBlock.setAutoPadding(false);
    o = { encrypt: createSecretKey(key.encrypt), macBlock };
    keyObjects.set(key, o);
  }
  return o;
}

/**
 * The Poly1305 key of one nonce: r || AES-128(macK, nonce). ECB without padding keeps no state between whole blocks,
 * so one cipher serves every blob (made per blob it was ~4 of the ~22 µs that opening a 12 KB blob takes; never
 * finalised). Each thread has its own (module state is per thread).
 */
function macKey(key: CryptoKey, nonce: Uint8Array): Buffer {
  // Exactly one block: a partial one would stay buffered in the shared cipher and shift every later nonce.
  if (nonce.length !== NONCE_BYTES) throw new Error(`a nonce is ${NONCE_BYTES} bytes, not ${nonce.length}`);
  return Buffer.concat([key.macR, objectsOf(key).macBlock.update(nonce)]);
}

function checkKey(key: CryptoKey): void {
  if (!keyIsValid(key)) throw new Error("invalid key: an all-zero key is refused");
}

/**
 * Encrypts and authenticates: nonce || AES-256-CTR(plaintext) || Poly1305-AES(ciphertext). The result has memory of
 * its own (never a slice of Node's pool): a worker can transfer it without a copy, and its taker can free it at once.
 */
export function seal(key: CryptoKey, plaintext: Uint8Array): Buffer {
  checkKey(key);
  const out = Buffer.allocUnsafeSlow(plaintext.length + EXTENSION);
  const nonce = out.subarray(0, NONCE_BYTES);
  do randomFillSync(nonce);
  while (allZero(nonce));
  const ct = out.subarray(NONCE_BYTES, NONCE_BYTES + plaintext.length);
  const aes = createCipheriv("aes-256-ctr", objectsOf(key).encrypt, nonce);
  cipherInto(aes, plaintext, ct);
  poly1305(macKey(key, nonce), ct).copy(out, NONCE_BYTES + plaintext.length);
  return out;
}

/** Verifies the MAC (in constant time) before decrypting; throws AuthenticationError when it does not match. */
export function open(key: CryptoKey, sealed: Uint8Array): Buffer {
  checkKey(key);
  if (sealed.length < EXTENSION) throw new AuthenticationError("ciphertext too small");
  const nonce = sealed.subarray(0, NONCE_BYTES);
  if (allZero(nonce)) throw new AuthenticationError("nonce is invalid (all zero)");
  const ct = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  if (!timingSafeEqual(poly1305(macKey(key, nonce), ct), tag)) throw new AuthenticationError();
  const aes = createDecipheriv("aes-256-ctr", objectsOf(key).encrypt, nonce);
  const out = Buffer.allocUnsafeSlow(ct.length);
  cipherInto(aes, ct, out);
  return out;
}

/** CTR piece size: the cipher's output for one piece is small enough to come from (and go back to) malloc's heap. */
const CIPHER_PIECE = 64 << 10;

/**
 * Runs `input` through an AES-CTR cipher into `out` (same length). Node's `update` returns a new buffer each call,
 * one byte longer than needed and then copied to its exact size: for a MiB-sized blob that is two fresh allocations,
 * faulted in page by page. In pieces of 64 KiB each output is freed at once and malloc hands the same memory out again.
 */
function cipherInto(aes: Cipheriv | Decipheriv, input: Uint8Array, out: Uint8Array): void {
  let n = 0;
  for (let at = 0; at < input.length; at += CIPHER_PIECE) {
    const piece = aes.update(input.subarray(at, at + CIPHER_PIECE));
    out.set(piece, n);
    n += piece.length;
    releaseBuffer(piece);
  }
  const tail = aes.final();
  out.set(tail, n);
}

/** Size on disk of a plaintext of `n` bytes. */
export function ciphertextLength(n: number): number {
  return n + EXTENSION;
}

/** The master-key JSON inside a key file: {"mac":{"k","r"},"encrypt"} in base64 (Go []byte). */
export function masterKeyToJson(key: CryptoKey): string {
  return JSON.stringify({ mac: { k: key.macK.toString("base64"), r: key.macR.toString("base64") }, encrypt: key.encrypt.toString("base64") });
}

export function masterKeyFromJson(text: string): CryptoKey {
  const doc = JSON.parse(text) as { mac?: { k?: unknown; r?: unknown }; encrypt?: unknown };
  const b = (v: unknown, n: number, what: string): Buffer => {
    const buf = typeof v === "string" ? Buffer.from(v, "base64") : Buffer.alloc(0);
    if (buf.length !== n) throw new Error(`master key: ${what} is not ${n} bytes`);
    return buf;
  };
  const key = { encrypt: b(doc.encrypt, 32, "encrypt"), macK: b(doc.mac?.k, 16, "mac.k"), macR: clampR(b(doc.mac?.r, 16, "mac.r")) };
  if (!keyIsValid(key)) throw new Error("master key: an all-zero key is refused");
  return key;
}
