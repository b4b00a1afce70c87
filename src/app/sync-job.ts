// Builds the SyncJob for the configured pair and makes sure its rclone config sections are written.
import path from "node:path";
import { resolveRemote, type ResolvedRemote, writeRemoteSections } from "../rclone/remotes.js";
import { rcloneEnvFor } from "../rclone/retry-policy.js";
import { defaultRcloneConf } from "../state/paths.js";
import type { SyncJob } from "../sync/job.js";
import { UsageError } from "../util/errors.js";
import { resolveBackupRemote } from "./backup-job.js";
import { type AppContext, assertValid, rcloneFor } from "./context.js";

/**
 * When the backup folder lies inside the sync folder on the same remote, pushes must never delete the
 * snapshots: returns rclone exclude patterns (relative to the sync folder) that protect them.
 */
export function protectedPatterns(syncRemote: ResolvedRemote, backupRemote: ResolvedRemote | undefined): string[] {
  if (!backupRemote) return [];
  const syncRoot = syncRemote.path("");
  const backupRoot = backupRemote.path("");
  if (backupRoot === syncRoot) return ["/backup-*"];
  const prefix = syncRoot.endsWith(":") ? syncRoot : `${syncRoot}/`;
  if (!backupRoot.startsWith(prefix)) return [];
  return [`/${backupRoot.slice(prefix.length)}/**`];
}

export async function buildSyncJob(ctx: AppContext, extra: Partial<SyncJob> = {}): Promise<SyncJob> {
  assertValid(ctx);
  const sync = ctx.config.sync;
  if (!sync) throw new UsageError("sync is not configured (set sync.provider and sync.mode in the plugin config, or run `workspace-sync setup`)");
  const bin = await rcloneFor(ctx);
  const remote = resolveRemote(sync.remote, sync.remotePath, defaultRcloneConf(ctx.stateDir), { withCrypt: true });
  await writeRemoteSections(remote);
  const backupRemote = ctx.config.backup ? resolveBackupRemote(ctx, ctx.config.backup) : undefined;
  return {
    bin,
    config: sync,
    workspaceDir: ctx.workspaceDir,
    localRoot: path.resolve(ctx.workspaceDir, sync.localPath || "."),
    remote,
    stateDir: ctx.stateDir,
    protectedRemotePatterns: protectedPatterns(remote, backupRemote),
    env: rcloneEnvFor(remote.backendType, ctx.env),
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...extra,
  };
}
