// Reading a snapshot back (verify, restore): rclone cat → SHA-256 tap → decrypt (age, or the older plugin's
// openssl format) → decompress → the consumer, then the stored bytes are checked against the manifest. Every
// failure becomes one clear message naming the snapshot.
import type { Readable, Transform } from "node:stream";
import { OperationError, UsageError } from "../../../util/errors.js";
import { createDecompressor } from "./codec.js";
import { AgeError, createAgeDecryptStream, type Unlock } from "../../crypto/index.js";
import { createOpensslLegacyDecryptStream, LegacyDecryptError } from "../legacy/openssl.js";
import { createMeter, type Progress, type ProgressSink } from "../../progress.js";
import { isLegacy, type LegacyEntry, type SnapshotEntry } from "./listing.js";
import type { BackupSetup } from "../../setup.js";
import { downloadObject, type Stored } from "./transfer.js";

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

export type AnySnapshot = SnapshotEntry | LegacyEntry;

/** The decoding stages for a snapshot; throws a usage error when the key it needs is not at hand. */
export function decodeStages(entry: AnySnapshot, unlock: Unlock): Transform[] {
  const stages: Transform[] = [];
  if (isLegacy(entry)) {
    if (entry.encrypted) {
      if (!unlock.passphrase) throw new UsageError(`${entry.name} is an encrypted snapshot of the older plugin: set backup.passphrase to the passphrase it was made with`);
      stages.push(createOpensslLegacyDecryptStream(unlock.passphrase, undefined, GZIP_MAGIC));
    }
    stages.push(createDecompressor("gzip")!);
    return stages;
  }
  const m = entry.manifest;
  if (m.encryption.scheme === "age") {
    if (m.encryption.recipientType === "scrypt" && !unlock.passphrase) {
      throw new UsageError(`${entry.name} is encrypted with a passphrase: set backup.passphrase (e.g. "\${BACKUP_PASSPHRASE}")`);
    }
    if (m.encryption.recipientType === "x25519" && !unlock.identities?.length) {
      throw new UsageError(`${entry.name} is encrypted to age recipients: pass --identity FILE (or set backup.identityFile) with the matching AGE-SECRET-KEY`);
    }
    stages.push(createAgeDecryptStream(unlock));
  }
  const decompress = createDecompressor(m.compression);
  if (decompress) stages.push(decompress);
  return stages;
}

function reason(err: unknown, legacy: boolean): string {
  const e = err as Error & { code?: string };
  if (err instanceof AgeError || err instanceof LegacyDecryptError) return e.message;
  if (e.code?.startsWith?.("Z_") || e.code?.startsWith?.("ERR_ZLIB") || /zstd|incorrect header|invalid (block|distance|stored)|unexpected end/i.test(e.message)) {
    return legacy ? "cannot decompress: wrong passphrase, or the snapshot is corrupted or truncated" : `the decompressed data is corrupted (${e.message})`;
  }
  if (e.name === "RcloneError") return e.message;
  if (/TAR_|tar|archive/i.test(e.message)) return `the archive inside is corrupted: ${e.message}`;
  return e.message;
}

export interface ReadOptions {
  phase: Progress["phase"];
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export async function readSnapshot<T>(setup: BackupSetup, entry: AnySnapshot, unlock: Unlock, consume: (plain: Readable) => Promise<T>, opts: ReadOptions): Promise<{ result: T; stored: Stored }> {
  const legacy = isLegacy(entry);
  const stages = decodeStages(entry, unlock);
  const total = legacy ? entry.size : entry.manifest.stored.size;
  const meter = createMeter(opts.phase, total, legacy ? 0 : entry.manifest.files, opts.onProgress);
  let read: { result: T; stored: Stored };
  try {
    read = await downloadObject({ ...setup.access, name: entry.name, stages, consume, signal: opts.signal, onBytes: (b) => meter.update(b) });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new OperationError(`snapshot ${entry.name} cannot be read: ${reason(err, legacy)}`, { cause: err });
  }
  meter.finish();
  if (!legacy) {
    const want = entry.manifest.stored;
    if (read.stored.size !== want.size || read.stored.sha256 !== want.sha256) {
      throw new OperationError(
        `snapshot ${entry.name} does not match its manifest: read ${read.stored.size} bytes with SHA-256 ${read.stored.sha256.slice(0, 16)}…, ` +
          `the manifest says ${want.size} bytes, ${want.sha256.slice(0, 16)}… (the stored object was modified or damaged)`,
      );
    }
  }
  return read;
}
