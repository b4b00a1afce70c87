// Reading an archive snapshot back (verify, restore): rclone cat → SHA-256 tap → age → decompress → tar entries, then
// the stored bytes are checked against the manifest. Every failure becomes one clear message naming the snapshot.
// The older plugin's snapshots are read the same way with other decoding stages (formats/legacy).
import type { Transform } from "node:stream";
import { OperationError, UsageError } from "../../../util/errors.js";
import { AgeError, createAgeDecryptStream, type Unlock } from "../../crypto/index.js";
import type { ReadCheck, ReadOptions, SnapshotEntry, SnapshotReader } from "../format.js";
import type { Folder } from "../folder.js";
import { createDecompressor } from "./codec.js";
import type { Manifest } from "./manifest.js";
import { readTarEntries } from "./tar-read.js";
import { downloadObject, type Stored } from "./transfer.js";

export interface ObjectRead {
  /** Object name in the folder (also the snapshot's name in messages). */
  name: string;
  /** Stored size, for the progress total. */
  total: number;
  /** Decryption and decompression, fresh for each read (`handOver`: the reader frees the decoded chunks it is done with). */
  stages: (opts: { handOver?: boolean }) => Transform[];
  /** What the stored bytes must be (the manifest's record). */
  expected?: Stored;
  /** Explains a failure of the format's own stages (undefined: not one of them). */
  explain?: (err: Error & { code?: string }) => string | undefined;
}

function reason(err: unknown, explain: ObjectRead["explain"]): string {
  const e = err as Error & { code?: string };
  const own = explain?.(e);
  if (own) return own;
  if (err instanceof AgeError) return e.message;
  if (e.code?.startsWith?.("Z_") || e.code?.startsWith?.("ERR_ZLIB") || /zstd|incorrect header|invalid (block|distance|stored)|unexpected end/i.test(e.message)) {
    return `the decompressed data is corrupted (${e.message})`;
  }
  if (e.name === "RcloneError") return e.message;
  if (/TAR_|tar|archive/i.test(e.message)) return `the archive inside is corrupted: ${e.message}`;
  return e.message;
}

/** Streams one stored object's tar entries to `visit`; resolves after the stored bytes matched `expected`. */
export async function readObjectEntries(folder: Folder, r: ObjectRead, visit: (e: SnapshotEntry) => Promise<void>, opts: ReadOptions = {}): Promise<ReadCheck> {
  const stages = r.stages({ handOver: opts.writesFiles === true });
  let read: { stored: Stored };
  try {
    read = await downloadObject({
      ...folder.access,
      name: r.name,
      stages,
      consume: (plain) => readTarEntries(plain, visit),
      signal: opts.signal,
      onBytes: (b) => opts.onBytes?.(b, r.total),
      handOver: opts.writesFiles === true,
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new OperationError(`snapshot ${r.name} cannot be read: ${reason(err, r.explain)}`, { cause: err });
  }
  const want = r.expected;
  if (want && (read.stored.size !== want.size || read.stored.sha256 !== want.sha256)) {
    throw new OperationError(
      `snapshot ${r.name} does not match its manifest: read ${read.stored.size} bytes with SHA-256 ${read.stored.sha256.slice(0, 16)}…, ` +
        `the manifest says ${want.size} bytes, ${want.sha256.slice(0, 16)}… (the stored object was modified or damaged)`,
    );
  }
  return { storedBytes: read.stored.size, digest: read.stored.sha256 };
}

/** The decoding stages of an archive snapshot; throws a usage error at once when the key it needs is not at hand. */
function decodeStages(name: string, m: Manifest, unlock: Unlock): ObjectRead["stages"] {
  if (m.encryption.scheme === "age") {
    if (m.encryption.recipientType === "scrypt" && !unlock.passphrase) {
      throw new UsageError(`${name} is encrypted with a passphrase: set backup.passphrase (e.g. "\${BACKUP_PASSPHRASE}")`);
    }
    if (m.encryption.recipientType === "x25519" && !unlock.identities?.length) {
      throw new UsageError(`${name} is encrypted to age recipients: pass --identity FILE (or set backup.identityFile) with the matching AGE-SECRET-KEY`);
    }
  }
  return (opts) => {
    const stages: Transform[] = [];
    if (m.encryption.scheme === "age") stages.push(createAgeDecryptStream(unlock));
    const decompress = createDecompressor(m.compression, opts);
    if (decompress) stages.push(decompress);
    return stages;
  };
}

export function openArchiveSnapshot(folder: Folder, name: string, manifest: Manifest, unlock: Unlock): SnapshotReader {
  const stages = decodeStages(name, manifest, unlock);
  return {
    entries: (visit, opts) => readObjectEntries(folder, { name, total: manifest.stored.size, stages, expected: manifest.stored }, visit, opts),
  };
}
