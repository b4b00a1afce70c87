// Key material for snapshots: what to encrypt with (passphrase → age scrypt, or age X25519 recipients), what to
// decrypt with (the passphrase, or identities from --identity / identityFile), and an environment for child
// processes with every variable carrying a secret removed (rclone never needs the backup passphrase).
import { readFile } from "node:fs/promises";
import type { Transform } from "node:stream";
import type { BackupConfig } from "../config/types.js";
import { UsageError } from "../util/errors.js";
import { createAgeEncryptStream, parseIdentityFile, type Unlock } from "./crypto/index.js";
import type { EncryptionInfo } from "./formats/archive/manifest.js";

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

export async function readIdentities(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read the age identity file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseIdentityFile(text);
  } catch (err) {
    throw new UsageError(`${file} is not an age identity file: ${(err as Error).message}`);
  }
}

/** What can open a snapshot: the configured passphrase and/or identities (--identity wins over identityFile). */
export async function unlockFor(backup: BackupConfig | undefined, identityFlag?: string): Promise<Unlock> {
  const unlock: Unlock = {};
  if (backup?.passphrase) unlock.passphrase = backup.passphrase;
  const file = identityFlag ?? backup?.identityFile;
  if (file) unlock.identities = await readIdentities(file);
  return unlock;
}

export function configuredSecrets(backup: BackupConfig | undefined): string[] {
  return backup?.passphrase ? [backup.passphrase] : [];
}

/** A copy of env without any variable whose value is (or contains) a configured secret (see util/child-env). */
export { childEnv } from "../util/child-env.js";
