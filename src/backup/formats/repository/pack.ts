// Pack files (data/<id>): encrypted blobs back to back, then the encrypted header listing them in file order, then
// the header's length as uint32 LE (restic internal/pack/pack.go). Header entries: type(1) || length(u32 LE) ||
// [uncompressed length(u32 LE) for types 2/3] || id(32). The file's size is exactly what its index entries imply,
// which `restic check` verifies; pack ID = SHA-256 of the whole file.
import { createHash } from "node:crypto";
import { AuthenticationError, type CryptoKey, EXTENSION, open, seal } from "./crypto.js";
import { releaseCompressContexts, zstdCompressInto, zstdDecompress } from "./compress.js";
import { IntegrityError } from "./errors.js";
import { hashId, type Id, ID_BYTES } from "./ids.js";
import { releaseBuffer } from "../../../util/release-buffer.js";
import { type CallOptions, repoPath, type StagedFile, type Storage } from "./storage.js";

export type BlobType = "data" | "tree";

/** One blob inside a pack. uncompressedLength 0 = stored uncompressed. */
export interface PackedBlob {
  id: Id;
  type: BlobType;
  offset: number;
  /** Stored length, including the 32 bytes of encryption overhead. */
  length: number;
  uncompressedLength: number;
}

export const PLAIN_ENTRY_BYTES = 1 + 4 + ID_BYTES; // 37
export const COMPRESSED_ENTRY_BYTES = 1 + 4 + 4 + ID_BYTES; // 41
const LENGTH_FIELD_BYTES = 4;
/** restic's MaxHeaderSize: 16 MiB of header plus the length field. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024 + LENGTH_FIELD_BYTES;
const EAGER_ENTRIES = 15;
/** restic 0.14's default target pack size. */
export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

export function entrySize(blob: Pick<PackedBlob, "uncompressedLength">): number {
  return blob.uncompressedLength !== 0 ? COMPRESSED_ENTRY_BYTES : PLAIN_ENTRY_BYTES;
}

/** Size of a pack holding exactly these blobs: what `restic check` computes from the index. */
export function packSizeFromBlobs(blobs: readonly Pick<PackedBlob, "length" | "uncompressedLength">[]): number {
  let size = EXTENSION + LENGTH_FIELD_BYTES;
  for (const b of blobs) size += b.length + entrySize(b);
  return size;
}

/**
 * Compresses (when it helps) and encrypts one blob. 0-byte blobs stay uncompressed: a length of 0 in the header
 * means "not compressed", so an empty blob cannot be marked compressed.
 */
export function encodeBlob(key: CryptoKey, plaintext: Uint8Array, compress: boolean, level = 3): { sealed: Buffer; uncompressedLength: number } {
  if (compress && plaintext.length > 0 && looksCompressible(plaintext)) {
    // Room for a frame shorter than the plaintext: anything longer is stored as it is.
    const room = scratch(plaintext.length);
    const n = zstdCompressInto(plaintext, room, level);
    const sealed = n === undefined ? undefined : seal(key, room.subarray(0, n));
    if (room.buffer !== reused?.buffer) releaseBuffer(room); // a one-off for a large blob
    if (sealed) return { sealed, uncompressedLength: plaintext.length };
  }
  return { sealed: seal(key, plaintext), uncompressedLength: 0 };
}

/** Up to this size a frame is compressed into one buffer kept between blobs (freed when a run ends), larger ones apart. */
const REUSED_MAX = 512 << 10;
let reused: Buffer | undefined;

/** Frees what encoding keeps on this thread between blobs (the frame buffer, the zstd contexts): a run is over. */
export function releaseEncodeMemory(): void {
  if (reused) releaseBuffer(reused);
  reused = undefined;
  releaseCompressContexts();
}

function scratch(length: number): Buffer {
  if (length > REUSED_MAX) return Buffer.allocUnsafeSlow(length);
  if (!reused || reused.length < length) reused = Buffer.allocUnsafeSlow(Math.min(REUSED_MAX, Math.max(length, 256 << 10)));
  return reused.subarray(0, length);
}

const PROBE_MIN = 256 * 1024;
const PROBE_PIECE = 16 * 1024;

/**
 * For big blobs, a fast look before the real compression: three 16 KiB samples (start, middle, end) at zstd level 1.
 * Media and already-compressed files (most of a workspace's bytes) then cost ~2% of a full level-3 attempt, which
 * would not shrink them anyway; anything whose samples shrink by 3% or more gets the full attempt.
 */
export function looksCompressible(plaintext: Uint8Array): boolean {
  if (plaintext.length < PROBE_MIN) return true;
  const mid = Math.floor(plaintext.length / 2 - PROBE_PIECE / 2);
  const sample = Buffer.concat([
    plaintext.subarray(0, PROBE_PIECE),
    plaintext.subarray(mid, mid + PROBE_PIECE),
    plaintext.subarray(plaintext.length - PROBE_PIECE),
  ]);
  return zstdCompressInto(sample, scratch(Math.floor(sample.length * 0.97)), 1) !== undefined;
}

/**
 * Decrypts, decompresses and checks one blob's bytes against its ID; errors name the blob and its pack. The result
 * has memory of its own (the cipher's or zstd's output, nothing else views it): its taker may free it when done.
 */
export function decodeBlob(key: CryptoKey, blob: PackedBlob, sealed: Uint8Array, packId: Id): Buffer {
  const where = () => `${blob.type} blob ${blob.id} in pack ${repoPath("data", packId)}`;
  const file = () => repoPath("data", packId);
  if (sealed.length !== blob.length) throw new IntegrityError(`${where()}: read ${sealed.length} bytes, the index says ${blob.length}`, file());
  let plain: Buffer;
  try {
    plain = open(key, sealed);
  } catch (err) {
    if (err instanceof AuthenticationError) throw new IntegrityError(`${where()} fails authentication (damaged or tampered)`, file());
    throw err;
  }
  if (blob.uncompressedLength !== 0) {
    const compressed = plain;
    try {
      plain = zstdDecompress(compressed, blob.uncompressedLength, true);
    } catch (err) {
      throw new IntegrityError(`${where()} does not decompress to ${blob.uncompressedLength} bytes: ${(err as Error).message}`, file());
    }
    releaseBuffer(compressed); // the cipher's output, read only here
    if (plain.length !== blob.uncompressedLength) throw new IntegrityError(`${where()} decompresses to ${plain.length} bytes, the index says ${blob.uncompressedLength}`, file());
  }
  if (hashId(plain) !== blob.id) throw new IntegrityError(`${where()} does not hash to its ID (damaged or tampered)`, file());
  return plain;
}

function typeByte(b: PackedBlob): number {
  return (b.type === "tree" ? 1 : 0) + (b.uncompressedLength !== 0 ? 2 : 0);
}

export function encodeHeader(blobs: readonly PackedBlob[]): Buffer {
  let size = 0;
  for (const b of blobs) size += entrySize(b);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const b of blobs) {
    out[at] = typeByte(b);
    out.writeUInt32LE(b.length, at + 1);
    at += 5;
    if (b.uncompressedLength !== 0) {
      out.writeUInt32LE(b.uncompressedLength, at);
      at += 4;
    }
    at += Buffer.from(b.id, "hex").copy(out, at);
  }
  return out;
}

/** Parses a decrypted header; offsets are the running sum of lengths, as restic computes them. */
export function parseHeader(plain: Buffer, file: string): PackedBlob[] {
  const blobs: PackedBlob[] = [];
  let at = 0;
  let offset = 0;
  while (at < plain.length) {
    const t = plain[at]!;
    if (t > 3) throw new IntegrityError(`${file}: pack header entry ${blobs.length} has invalid type ${t}`, file);
    const compressed = t >= 2;
    const need = compressed ? COMPRESSED_ENTRY_BYTES : PLAIN_ENTRY_BYTES;
    if (plain.length - at < need) throw new IntegrityError(`${file}: pack header entry ${blobs.length} is truncated`, file);
    const length = plain.readUInt32LE(at + 1);
    const uncompressedLength = compressed ? plain.readUInt32LE(at + 5) : 0;
    const idAt = at + (compressed ? 9 : 5);
    blobs.push({ id: plain.toString("hex", idAt, idAt + ID_BYTES), type: t & 1 ? "tree" : "data", offset, length, uncompressedLength });
    offset += length;
    at += need;
  }
  return blobs;
}

/** A finished pack: its ID, its bytes (in memory as pieces, or already in a staged file), its blobs and size. */
export interface FinishedPack {
  id: Id;
  /** The file as pieces, to upload without one more copy (empty when staged). */
  parts: Buffer[];
  /** The staged file holding the whole pack: commit it under the pack's ID. */
  staged?: StagedFile;
  blobs: PackedBlob[];
  size: number;
}

/**
 * Collects encrypted blobs of one type and produces the finished pack file. With a staged file the blobs are written
 * to it as they come and only their index entries stay in memory; without, the pack is kept in memory until finished.
 */
export class PackWriter {
  private readonly chunks: Buffer[] = [];
  readonly blobs: PackedBlob[] = [];
  private bytes = 0;
  private headerBytes = 0;
  private readonly hash = createHash("sha256");

  constructor(
    private readonly key: CryptoKey,
    readonly type: BlobType,
    /** Where the pack's bytes go while it fills (memory when absent). */
    readonly staged?: StagedFile,
  ) {}

  /** Appends an already encrypted blob (see encodeBlob). */
  add(id: Id, sealed: Buffer, uncompressedLength: number): PackedBlob {
    const blob: PackedBlob = { id, type: this.type, offset: this.bytes, length: sealed.length, uncompressedLength };
    this.write(sealed);
    this.blobs.push(blob);
    this.bytes += sealed.length;
    this.headerBytes += entrySize(blob);
    return blob;
  }

  private write(part: Buffer): void {
    this.hash.update(part);
    if (this.staged) this.staged.append(part);
    else this.chunks.push(part);
  }

  get count(): number {
    return this.blobs.length;
  }

  /** Size of the finished pack if it were finalized now. */
  get size(): number {
    return this.bytes + this.headerBytes + EXTENSION + LENGTH_FIELD_BYTES;
  }

  /** One more entry would not fit restic's maximum header size. */
  get headerFull(): boolean {
    return this.headerBytes + COMPRESSED_ENTRY_BYTES + EXTENSION + LENGTH_FIELD_BYTES > MAX_HEADER_BYTES;
  }

  /** The complete pack (the ID is the SHA-256 of the whole file, hashed as the blobs came). */
  finalize(): FinishedPack {
    const header = seal(this.key, encodeHeader(this.blobs));
    const len = Buffer.allocUnsafe(LENGTH_FIELD_BYTES);
    len.writeUInt32LE(header.length, 0);
    this.write(header);
    this.write(len);
    const size = this.size;
    if (this.bytes + header.length + LENGTH_FIELD_BYTES !== size) throw new Error("pack size does not add up");
    return { id: this.hash.digest("hex"), parts: this.chunks, ...(this.staged ? { staged: this.staged } : {}), blobs: this.blobs, size };
  }
}

/** Reads and checks a pack's header the way restic does (bounds first, one eager read of the last entries). */
export async function readPackHeader(storage: Storage, key: CryptoKey, packId: Id, packSize?: number, opts?: CallOptions): Promise<PackedBlob[]> {
  const file = repoPath("data", packId);
  const size = packSize ?? (await storage.stat("data", packId, opts));
  if (size === undefined) throw new IntegrityError(`${file} does not exist`, file);
  if (size < PLAIN_ENTRY_BYTES + EXTENSION + LENGTH_FIELD_BYTES) throw new IntegrityError(`${file} is too small to be a pack (${size} bytes)`, file);
  const eager = Math.min(size, EAGER_ENTRIES * COMPRESSED_ENTRY_BYTES + EXTENSION + LENGTH_FIELD_BYTES);
  let tail = await storage.load("data", packId, { offset: size - eager, length: eager }, opts);
  if (tail.length !== eager) throw new IntegrityError(`${file} is shorter than listed (${size} bytes)`, file);
  const hlen = tail.readUInt32LE(tail.length - LENGTH_FIELD_BYTES);
  if (hlen === 0) throw new IntegrityError(`${file}: pack header length is zero`, file);
  if (hlen < EXTENSION) throw new IntegrityError(`${file}: pack header length is too small`, file);
  if (hlen > size - LENGTH_FIELD_BYTES) throw new IntegrityError(`${file}: pack header is larger than the file`, file);
  if (hlen > MAX_HEADER_BYTES - LENGTH_FIELD_BYTES) throw new IntegrityError(`${file}: pack header is larger than restic's maximum`, file);
  if (hlen + LENGTH_FIELD_BYTES > eager) {
    tail = await storage.load("data", packId, { offset: size - hlen - LENGTH_FIELD_BYTES, length: hlen + LENGTH_FIELD_BYTES }, opts);
  }
  const sealedHeader = tail.subarray(tail.length - LENGTH_FIELD_BYTES - hlen, tail.length - LENGTH_FIELD_BYTES);
  let plain: Buffer;
  try {
    plain = open(key, sealedHeader);
  } catch (err) {
    if (err instanceof AuthenticationError) throw new IntegrityError(`${file}: pack header fails authentication (damaged or tampered)`, file);
    throw err;
  }
  const blobs = parseHeader(plain, file);
  const expected = packSizeFromBlobs(blobs);
  if (expected !== size) throw new IntegrityError(`${file} is ${size} bytes but its header describes ${expected}`, file);
  return blobs;
}
