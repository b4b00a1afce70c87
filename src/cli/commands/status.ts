// `workspace-sync status`: config summary (secrets redacted), rclone, remote reachability, last/next runs,
// lock holder, conflicts and warnings. It reports whatever is wrong rather than stopping at it; an invalid config
// is still exit 2 after the report.
import { redactConfig } from "../../config/index.js";
import { type AppContext, ConfigInvalidError } from "../../app/context.js";
import { resolveBackupRemote } from "../../app/backup-job.js";
import { findRclone } from "../../rclone/binary.js";
import { readConf } from "../../rclone/conf-file.js";
import { checkReachable } from "../../rclone/reach.js";
import { rcloneEnvFor } from "../../rclone/retry-policy.js";
import { OAUTH_TYPES, resolveRemote, type ResolvedRemote, writeRemoteSections } from "../../rclone/remotes.js";
import { readLockHolder } from "../../state/lock.js";
import { defaultRcloneConf, pairId } from "../../state/paths.js";
import { type ForeignTrashed, readSyncState, syncLockFile } from "../../sync/engine.js";
import { describeForeignRecords } from "../../sync/foreign.js";
import path from "node:path";

export interface StatusReport {
  configFile: string;
  configFound: boolean;
  stateDir: string;
  workspaceDir: string;
  config: unknown;
  problems: { key: string; message: string }[];
  rclone: { found: boolean; path?: string; version?: string; error?: string };
  sync: {
    configured: boolean;
    mode?: string;
    remote?: string;
    reachable?: boolean;
    reachError?: string;
    lastRun?: unknown;
    lastSuccess?: string;
    nextRun?: string;
    runningNow?: unknown;
    conflicts: string[];
    /** Remote-only files a full compare moved to the trash, while they are still kept there. */
    foreignTrashed?: ForeignTrashed[];
  };
  backup: { configured: boolean; enabled?: boolean; remote?: string };
  warnings: string[];
}

async function reachable(bin: Awaited<ReturnType<typeof findRclone>>, remote: ResolvedRemote, root: ResolvedRemote, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  // One cheap listing of the folder: works for every backend (S3-like remotes have no `about`); on bucket stores a
  // missing folder is fine but a missing bucket is reported.
  const bucketRoot = remote.isBucketStore && !root.path("").endsWith(":") ? root.path("") : undefined;
  // Same retry cap as a sync run: a dead S3 endpoint is reported in seconds, not after minutes of SDK backoff.
  const reach = await checkReachable(bin, remote, rcloneEnvFor(remote.backendType, env), { timeoutMs: 30_000, ...(bucketRoot ? { bucketRoot } : {}) });
  return reach.ok ? undefined : reach.error;
}

/** OAuth remotes the product writes need a token from `workspace-sync authorize` (or in the config). */
async function missingToken(remote: ResolvedRemote, name: string): Promise<boolean> {
  const type = remote.sections[name]?.type;
  if (remote.readOnly || !type || !OAUTH_TYPES.has(type)) return false;
  const conf = await readConf(remote.configPath).catch(() => new Map<string, Record<string, string>>());
  return !conf.get(name)?.token;
}

export async function buildStatus(ctx: AppContext): Promise<StatusReport> {
  const report: StatusReport = {
    configFile: ctx.configFile,
    configFound: ctx.configExists,
    stateDir: ctx.stateDir,
    workspaceDir: ctx.workspaceDir,
    config: redactConfig(ctx.config),
    problems: ctx.problems,
    rclone: { found: false },
    sync: { configured: !!ctx.config.sync, conflicts: [] },
    backup: { configured: !!ctx.config.backup, enabled: ctx.config.backup?.enabled },
    warnings: [],
  };
  if (!ctx.configExists) report.warnings.push(`no config file at ${ctx.configFile}; run \`workspace-sync setup\``);
  if (ctx.problems.length) report.warnings.push(`${ctx.problems.length} config problem(s): the plugin stays idle until they are fixed`);
  let bin;
  try {
    bin = await findRclone(ctx.config.rclonePath, ctx.env.PATH);
    report.rclone = { found: true, path: bin.path, version: bin.version.raw };
  } catch (err) {
    report.rclone = { found: false, error: (err as Error).message };
  }
  const sync = ctx.config.sync;
  if (sync) {
    const remote = resolveRemote(sync.remote, sync.remotePath, defaultRcloneConf(ctx.stateDir), { withCrypt: true });
    const localRoot = path.resolve(ctx.workspaceDir, sync.localPath || ".");
    const state = await readSyncState(ctx.stateDir);
    report.sync.mode = sync.mode;
    report.sync.remote = remote.display;
    report.sync.lastRun = state.lastRun;
    report.sync.lastSuccess = state.lastSuccess;
    report.sync.conflicts = state.conflicts ?? [];
    if (sync.interval > 0 && state.lastRun) {
      report.sync.nextRun = new Date(Date.parse(state.lastRun.finishedAt) + sync.interval * 1000).toISOString();
    }
    report.sync.runningNow = await readLockHolder(syncLockFile(ctx.stateDir, pairId(localRoot, remote.path(""))));
    report.sync.foreignTrashed = state.foreignTrashed ?? [];
    if (report.sync.conflicts.length) report.warnings.push(`${report.sync.conflicts.length} bisync conflict(s) pending: both versions were kept`);
    if (state.lastRun && !state.lastRun.ok) report.warnings.push(`last sync failed: ${state.lastRun.error ?? "unknown error"}`);
    if (bin && ctx.problems.length === 0) {
      try {
        await writeRemoteSections(remote);
        if (await missingToken(remote, sync.remote.remoteName)) {
          report.warnings.push(`no ${sync.remote.provider} token in ${remote.configPath} [${sync.remote.remoteName}]: run \`workspace-sync authorize\``);
        }
        const err = await reachable(bin, remote, resolveRemote(sync.remote, "", defaultRcloneConf(ctx.stateDir)), ctx.env);
        report.sync.reachable = !err;
        if (err) report.sync.reachError = err;
      } catch (err) {
        report.sync.reachable = false;
        report.sync.reachError = (err as Error).message;
      }
    }
  }
  if (ctx.config.backup) report.backup.remote = resolveBackupRemote(ctx, ctx.config.backup).display;
  return report;
}

export function formatStatus(s: StatusReport): string {
  const lines = [
    `config:    ${s.configFile}${s.configFound ? "" : " (not found)"}`,
    `state:     ${s.stateDir}`,
    `workspace: ${s.workspaceDir}`,
    `rclone:    ${s.rclone.found ? `${s.rclone.version} (${s.rclone.path})` : `not available — ${s.rclone.error}`}`,
  ];
  if (s.sync.configured) {
    lines.push(`sync:      ${s.sync.mode} → ${s.sync.remote}`);
    if (s.sync.reachable !== undefined) lines.push(`remote:    ${s.sync.reachable ? "reachable" : `NOT reachable — ${s.sync.reachError}`}`);
    const last = s.sync.lastRun as { finishedAt?: string; ok?: boolean; error?: string } | undefined;
    lines.push(`last sync: ${last ? `${last.finishedAt} ${last.ok ? "ok" : `FAILED: ${last.error}`}` : "never"}`);
    if (s.sync.nextRun) lines.push(`next sync: ${s.sync.nextRun} (service schedule)`);
    for (const line of describeForeignRecords(s.sync.foreignTrashed)) lines.push(`trashed:   ${line}`);
    if (s.sync.runningNow) {
      const h = s.sync.runningNow as { purpose: string; pid: number; since: string };
      lines.push(`running:   ${h.purpose}, pid ${h.pid} since ${h.since}`);
    }
  } else lines.push("sync:      not configured");
  lines.push(`backup:    ${s.backup.configured ? `${s.backup.enabled ? "enabled" : "configured, disabled"} → ${s.backup.remote}` : "not configured"}`);
  for (const p of s.problems) lines.push(`problem:   ${p.key}: ${p.message}`);
  for (const w of s.warnings) lines.push(`warning:   ${w}`);
  return lines.join("\n");
}

export async function statusCommand(ctx: AppContext, flags: { json?: boolean }): Promise<void> {
  const status = await buildStatus(ctx);
  process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
  // The whole report is printed first (it is how a user finds the problem); scripts and cron still see exit 2.
  if (ctx.problems.length) throw new ConfigInvalidError(ctx.problems, ctx.configFile);
}
