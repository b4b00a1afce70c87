// Builds the SyncJob for the configured pair and makes sure its rclone config sections are written.
import path from "node:path";
import { resolveRemote, type ResolvedRemote, writeRemoteSections } from "../rclone/remotes.js";
import { rcloneEnvFor } from "../rclone/retry-policy.js";
import { defaultRcloneConf } from "../state/paths.js";
import type { SyncJob } from "../sync/job.js";
import { UsageError } from "../util/errors.js";
import { resolveBackupRemote } from "./backup-job.js";
import { type AppContext, assertValid, rcloneFor } from "./context.js";
import { checkSyncLocations, missingWorkspaceProblem, syncRemoteFor } from "./locations.js";

export async function buildSyncJob(ctx: AppContext, extra: Partial<SyncJob> = {}): Promise<SyncJob> {
  assertValid(ctx);
  const sync = ctx.config.sync;
  if (!sync) throw new UsageError("sync is not configured (set sync.provider and sync.mode in the plugin config, or run `workspace-sync setup`)");
  const remote = syncRemoteFor(ctx)!;
  const backupRemote = ctx.config.backup ? resolveBackupRemote(ctx, ctx.config.backup) : undefined;
  // Before anything runs (rclone.conf written, rclone found): a location mistake is refused first.
  const { protectedPatterns } = await checkSyncLocations(ctx, { sync: remote, backup: backupRemote });
  const workspaceMissing = missingWorkspaceProblem(ctx);
  const bin = await rcloneFor(ctx);
  await writeRemoteSections(remote);
  return {
    bin,
    config: sync,
    workspaceDir: ctx.workspaceDir,
    localRoot: path.resolve(ctx.workspaceDir, sync.localPath || "."),
    remote,
    stateDir: ctx.stateDir,
    protectedPatterns,
    ...(workspaceMissing ? { workspaceMissing: `${workspaceMissing}.` } : {}),
    env: rcloneEnvFor(remote.backendType, ctx.env),
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...extra,
  };
}
