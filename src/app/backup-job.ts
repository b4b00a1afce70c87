// Builds the BackupJob for the configured backup folder, the way sync-job.ts builds a SyncJob: the validated backup
// settings, rclone, the folder's remote (its rclone.conf sections written), a secret-free environment for rclone,
// where the live files are, and who this install is (host, agent) — so the backup commands never see the whole
// application context.
import os from "node:os";
import { clockFor } from "../backup/clock.js";
import type { BackupJob, BackupTarget } from "../backup/job.js";
import { configuredSecrets } from "../backup/keys.js";
import type { BackupConfig } from "../config/types.js";
import { resolveRemote, type ResolvedRemote, writeRemoteSections } from "../rclone/remotes.js";
import { defaultRcloneConf } from "../state/paths.js";
import { childEnv } from "../util/child-env.js";
import { UsageError } from "../util/errors.js";
import { checkBackupLocations } from "./locations.js";
import { type AppContext, assertValid, rcloneFor } from "./context.js";

/** The agent id recorded in snapshots when none is given (`--agent`). */
export const DEFAULT_AGENT = "default";

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

export function backupConfigOf(ctx: AppContext): BackupConfig {
  assertValid(ctx);
  const backup = ctx.config.backup;
  if (!backup) throw new UsageError('backup is not configured: add a "backup" block (provider, encrypt, passphrase or recipients) to the plugin config, or run `workspace-sync setup`');
  return backup;
}

export interface BackupJobOptions {
  /** Agent id recorded in snapshots (the CLI's --agent). */
  agent?: string;
  signal?: AbortSignal;
  /** The job will write (backup now, scheduled runs, setup): a backup folder that overlaps badly is refused first. */
  write?: boolean;
}

/** Settings and locations only: no rclone, no remote call (`backup status` answers with the remote down). */
export function buildBackupTarget(ctx: AppContext, opts: BackupJobOptions = {}): BackupTarget {
  const config = backupConfigOf(ctx);
  return {
    config,
    remote: resolveBackupRemote(ctx, config),
    stateDir: ctx.stateDir,
    locations: { stateDir: ctx.stateDir, workspaceDir: ctx.workspaceDir, configFile: ctx.configFile, env: ctx.env },
    host: os.hostname(),
    agent: opts.agent ?? DEFAULT_AGENT,
    log: ctx.log,
    now: clockFor(ctx.env),
  };
}

export async function buildBackupJob(ctx: AppContext, opts: BackupJobOptions = {}): Promise<BackupJob> {
  const target = buildBackupTarget(ctx, opts);
  // A backup folder inside the workspace, or in the sync folder's way, is refused before anything runs; reading
  // (list, verify, restore on a fresh machine) stays possible.
  if (opts.write) await checkBackupLocations(ctx, target.remote);
  const bin = await rcloneFor(ctx);
  await writeRemoteSections(target.remote);
  const signal = opts.signal ?? ctx.signal;
  return { ...target, bin, env: childEnv(ctx.env, configuredSecrets(target.config)), ...(signal ? { signal } : {}) };
}
