// Key material for snapshots, whatever their format: what can open them (the passphrase, or age identities from
// --identity / identityFile), the secrets to keep out of child processes' environments (rclone never needs the backup
// passphrase). What the archive format encrypts with: formats/archive/encryption.ts.
import { readFile } from "node:fs/promises";
import type { BackupConfig } from "../config/types.js";
import { UsageError } from "../util/errors.js";
import { parseIdentityFile, type Unlock } from "./crypto/index.js";

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
