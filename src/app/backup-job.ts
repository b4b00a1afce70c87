// Builds the BackupJob for the configured backup folder, the way sync-job.ts builds a SyncJob.
import type { BackupConfig } from "../config/types.js";
import { resolveRemote, type ResolvedRemote } from "../rclone/remotes.js";
import { defaultRcloneConf } from "../state/paths.js";
import type { AppContext } from "./context.js";

/** Backup prefix on the backup remote (bucket handled by the remote itself). */
export function backupBasePath(backup: BackupConfig): string {
  return backup.remote.provider === "s3" && (backup.bucket || backup.remote.s3?.bucket)
    ? backup.prefix
    : [backup.bucket, backup.prefix].filter(Boolean).join("/");
}

export function resolveBackupRemote(ctx: AppContext, backup: BackupConfig): ResolvedRemote {
  const spec = backup.bucket && backup.remote.s3 ? { ...backup.remote, s3: { ...backup.remote.s3, bucket: backup.bucket } } : backup.remote;
  return resolveRemote(spec, backupBasePath(backup), defaultRcloneConf(ctx.stateDir));
}
