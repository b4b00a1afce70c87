// "Unpacked" files (index/, snapshots/, locks/): one encrypted JSON document each, named by the SHA-256 of the
// stored bytes. Format v2 puts a version byte before the JSON inside the encryption: 0x02 = zstd follows; a first
// byte of `{` or `[` means plain JSON (restic internal/repository/repository.go: compressUnpacked /
// decompressUnpacked). Format v1 stores the JSON as is.
import { AuthenticationError, type CryptoKey, open, seal } from "./crypto.js";
import { zstdCompress, zstdDecompressDocument } from "./compress.js";
import { IntegrityError } from "./errors.js";
import { hashId, type Id } from "./ids.js";
import type { CallOptions, FileType, Storage } from "./storage.js";

export type UnpackedType = Extract<FileType, "index" | "snapshots" | "locks">;

/** Largest JSON document accepted from storage (an index file is kept below ~8 MiB by restic). */
const MAX_DOCUMENT_BYTES = 1 << 30;
const VERSION_ZSTD = 2;

export function encodeUnpacked(key: CryptoKey, repoVersion: number, json: string | Uint8Array): { id: Id; bytes: Buffer } {
  const plain = typeof json === "string" ? Buffer.from(json, "utf8") : json;
  const body = repoVersion >= 2 ? Buffer.concat([Buffer.of(VERSION_ZSTD), zstdCompress(plain)]) : plain;
  const bytes = seal(key, body);
  return { id: hashId(bytes), bytes };
}

/** Checks the name, the MAC and the encoding of a stored unpacked file; returns the JSON text's bytes. */
export function decodeUnpacked(key: CryptoKey, repoVersion: number, type: UnpackedType, id: Id, bytes: Buffer): Buffer {
  const file = `${type}/${id}`;
  if (hashId(bytes) !== id) throw new IntegrityError(`${file} does not match its name (damaged or tampered): its SHA-256 is ${hashId(bytes)}`, file);
  let plain: Buffer;
  try {
    plain = open(key, bytes);
  } catch (err) {
    if (err instanceof AuthenticationError) throw new IntegrityError(`${file} fails authentication (damaged, tampered, or written with another master key)`, file);
    throw err;
  }
  if (repoVersion < 2 || plain.length === 0) return plain;
  const first = plain[0];
  if (first === 0x7b || first === 0x5b) return plain; // "{" or "[": plain JSON
  if (first !== VERSION_ZSTD) throw new IntegrityError(`${file} has an unsupported encoding (version byte ${first})`, file);
  try {
    return zstdDecompressDocument(plain.subarray(1), MAX_DOCUMENT_BYTES);
  } catch (err) {
    throw new IntegrityError(`${file} does not decompress: ${(err as Error).message}`, file);
  }
}

export async function saveUnpacked(storage: Storage, key: CryptoKey, repoVersion: number, type: UnpackedType, json: string | Uint8Array, opts?: CallOptions): Promise<Id> {
  const { id, bytes } = encodeUnpacked(key, repoVersion, json);
  await storage.save(type, id, bytes, opts);
  return id;
}

export async function loadUnpacked(storage: Storage, key: CryptoKey, repoVersion: number, type: UnpackedType, id: Id, opts?: CallOptions): Promise<Buffer> {
  return decodeUnpacked(key, repoVersion, type, id, await storage.load(type, id, undefined, opts));
}

/** Parses a decoded document; a JSON error names the file. */
export function parseDocument<T>(type: UnpackedType, id: Id, text: Buffer): T {
  try {
    return JSON.parse(text.toString("utf8")) as T;
  } catch (err) {
    throw new IntegrityError(`${type}/${id} is not valid JSON: ${(err as Error).message}`, `${type}/${id}`);
  }
}
