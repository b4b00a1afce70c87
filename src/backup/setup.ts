// What every backup command starts from: the validated backup settings, rclone, the repository remote (its
// rclone.conf sections written) and the secret-free environment rclone runs with.
import type { AppContext } from "../app/context.js";
import { assertValid, rcloneFor } from "../app/context.js";
import { resolveBackupRemote } from "../app/backup-job.js";
import type { BackupConfig } from "../config/types.js";
import type { RcloneBinary } from "../rclone/binary.js";
import { type ResolvedRemote, writeRemoteSections } from "../rclone/remotes.js";
import { UsageError } from "../util/errors.js";
import { childEnv, configuredSecrets } from "./keys.js";
import type { RepoAccess } from "./formats/archive/listing.js";
import { manifestCacheFile } from "./state.js";

export interface BackupSetup {
  backup: BackupConfig;
  bin: RcloneBinary;
  remote: ResolvedRemote;
  access: RepoAccess;
}

export function backupConfigOf(ctx: AppContext): BackupConfig {
  assertValid(ctx);
  const backup = ctx.config.backup;
  if (!backup) throw new UsageError('backup is not configured: add a "backup" block (provider, encrypt, passphrase or recipients) to the plugin config, or run `workspace-sync setup`');
  return backup;
}

export async function openRepository(ctx: AppContext, signal?: AbortSignal): Promise<BackupSetup> {
  const backup = backupConfigOf(ctx);
  const bin = await rcloneFor(ctx);
  const remote = resolveBackupRemote(ctx, backup);
  await writeRemoteSections(remote);
  const env = childEnv(ctx.env, configuredSecrets(backup));
  return { backup, bin, remote, access: { bin, remote, env, cacheFile: manifestCacheFile(ctx.stateDir), signal } };
}
