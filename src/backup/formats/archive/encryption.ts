// What archive snapshots are encrypted with: a passphrase → age's scrypt recipient, or age X25519 recipients (the
// gateway can then write backups it cannot read). The manifest records the scheme, never a secret.
import type { Transform } from "node:stream";
import type { BackupConfig } from "../../../config/types.js";
import { UsageError } from "../../../util/errors.js";
import { createAgeEncryptStream } from "../../crypto/index.js";
import type { EncryptionInfo } from "./manifest.js";

/**
 * scrypt cost 2^16 (64 MiB, ~0.2 s): age's CLI uses 2^18 (256 MiB), which alone would break the backup's memory
 * bound; `age -d` accepts either.
 */
export const SCRYPT_WORK_FACTOR = 16;

export interface WriteEncryption {
  info: EncryptionInfo;
  create(): Transform | undefined;
}

export function encryptionFor(backup: BackupConfig): WriteEncryption {
  if (!backup.encrypt) return { info: { scheme: "none" }, create: () => undefined };
  if (backup.recipients.length > 0) {
    const recipients = [...backup.recipients];
    return { info: { scheme: "age", recipientType: "x25519", recipients }, create: () => createAgeEncryptStream({ recipients }) };
  }
  const passphrase = backup.passphrase;
  if (!passphrase) throw new UsageError('backup.encrypt is true but there is no key: set "passphrase" or "recipients"');
  return {
    info: { scheme: "age", recipientType: "scrypt" },
    create: () => createAgeEncryptStream({ passphrase, scryptWorkFactor: SCRYPT_WORK_FACTOR }),
  };
}

/** The scheme in a few words, for listings. */
export function describeEncryption(info: EncryptionInfo): string {
  return info.scheme === "none" ? "none" : `age (${info.recipientType === "scrypt" ? "passphrase" : "recipients"})`;
}
