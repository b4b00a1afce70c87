// `status`: what is configured (secrets redacted), whether rclone and the remote answer, the last and next runs,
// who runs the schedule, and a `needsAttention` list — everything a person or a monitoring job must act on. The
// CLI exits 1 when that list is not empty (2 when the config itself is invalid); `--json` carries the same facts.
import path from "node:path";
import type { AppContext } from "../app/context.js";
import { resolveBackupRemote } from "../app/backup-job.js";
import { readBackupState } from "../backup/state.js";
import { redactConfig } from "../config/index.js";
import { findRclone } from "../rclone/binary.js";
import { readConf } from "../rclone/conf-file.js";
import { checkReachable } from "../rclone/reach.js";
import { OAUTH_TYPES, resolveRemote, type ResolvedRemote, writeRemoteSections } from "../rclone/remotes.js";
import { rcloneEnvFor } from "../rclone/retry-policy.js";
import { heartbeatAlive, readHeartbeat, type ServiceHeartbeat } from "../schedule/heartbeat.js";
import { type ScheduleStatus, scheduleStatus } from "../schedule/install.js";
import { readLockHolder } from "../state/lock.js";
import { defaultRcloneConf, pairId } from "../state/paths.js";
import { type ForeignTrashed, readSyncState, type RunRecord, syncLockFile } from "../sync/engine.js";
import { describeForeignRecords } from "../sync/foreign.js";
import { isSnapshotId, snapshotLabel } from "./format.js";

export interface LastRunSummary {
  finishedAt: string;
  ok: boolean;
  dryRun?: boolean;
  skipped?: boolean;
  error?: string;
  detail?: string;
}

export interface StatusReport {
  configFile: string;
  configFound: boolean;
  stateDir: string;
  workspaceDir: string;
  config: unknown;
  problems: { key: string; message: string }[];
  rclone: { found: boolean; path?: string; version?: string; error?: string };
  /** Who runs the configured intervals: the gateway's service (alive recently) and/or an installed schedule. */
  scheduler: {
    service: { alive: boolean; lastSeen?: string; pid?: number; host?: string };
    schedule: ScheduleStatus;
  };
  sync: {
    configured: boolean;
    mode?: string;
    remote?: string;
    reachable?: boolean;
    reachError?: string;
    lastRun?: RunRecord;
    lastSuccess?: string;
    /** Only when something will run it: the service (alive) or an installed schedule. */
    nextRun?: string;
    nextRunBy?: string;
    runningNow?: { purpose: string; pid: number; since: string };
    conflicts: string[];
    /** Remote-only files a full compare moved to the trash, while they are still kept there. */
    foreignTrashed?: ForeignTrashed[];
  };
  backup: {
    configured: boolean;
    enabled?: boolean;
    remote?: string;
    lastRun?: LastRunSummary;
    lastSuccess?: string;
    nextRun?: string;
    nextRunBy?: string;
  };
  warnings: string[];
  /** What a person must act on; `status` exits 1 when this is not empty (2 for config problems). */
  needsAttention: string[];
  /** The exit code `status` returns for this report: 0 all well, 1 something needs attention, 2 invalid config. */
  exitCode: 0 | 1 | 2;
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

/**
 * The next run of a job, from whoever will run it: the live service first, else the installed schedule. A systemd
 * timer that does not report its next elapse (an older systemctl without JSON output) runs `interval` after the
 * previous run ended, so that is the estimate.
 */
function nextRunOf(
  job: "sync" | "backup",
  beat: ServiceHeartbeat | undefined,
  alive: boolean,
  schedule: ScheduleStatus,
  lastFinishedAt: string | undefined,
): { at: string; by: string } | undefined {
  const fromService = alive ? beat?.[job] : undefined;
  if (fromService?.runningSince) return { at: fromService.runningSince, by: "running now in the gateway's service" };
  if (fromService?.nextRunAt) return { at: fromService.nextRunAt, by: "gateway service" };
  const scheduled = schedule.active ? schedule.jobs.find((j) => j.job === job) : undefined;
  if (!scheduled) return undefined;
  if (scheduled.nextRun) return { at: scheduled.nextRun, by: schedule.kind === "cron" ? "cron" : "systemd timer" };
  if (schedule.kind === "systemd" && lastFinishedAt) {
    return { at: new Date(Date.parse(lastFinishedAt) + scheduled.intervalS * 1000).toISOString(), by: "systemd timer, estimated" };
  }
  return undefined;
}

export async function buildStatus(ctx: AppContext, now = new Date()): Promise<StatusReport> {
  const attention: string[] = [];
  const [beat, schedule] = await Promise.all([readHeartbeat(ctx.stateDir), scheduleStatus(ctx.stateDir, ctx.env, now)]);
  const alive = heartbeatAlive(beat, now.getTime());
  const report: StatusReport = {
    configFile: ctx.configFile,
    configFound: ctx.configExists,
    stateDir: ctx.stateDir,
    workspaceDir: ctx.workspaceDir,
    config: redactConfig(ctx.config),
    problems: ctx.problems,
    rclone: { found: false },
    scheduler: {
      service: { alive, ...(beat ? { lastSeen: beat.beatAt, pid: beat.pid, host: beat.host } : {}) },
      schedule,
    },
    sync: { configured: !!ctx.config.sync, conflicts: [] },
    backup: { configured: !!ctx.config.backup, enabled: ctx.config.backup?.enabled },
    warnings: [],
    needsAttention: attention,
    exitCode: 0,
  };
  if (!ctx.configExists) attention.push(`no config file at ${ctx.configFile}: run \`workspace-sync setup\``);
  if (ctx.problems.length) attention.push(`${ctx.problems.length} config problem(s) (listed above): the plugin stays idle until they are fixed`);
  if (schedule.installed && schedule.problem) attention.push(`installed schedule: ${schedule.problem}`);
  if (schedule.advice) report.warnings.push(schedule.advice);
  for (const note of schedule.jobs.filter((j) => j.note)) report.warnings.push(`scheduled ${note.job}: ${note.note}`);

  let bin;
  try {
    bin = await findRclone(ctx.config.rclonePath, ctx.env.PATH);
    report.rclone = { found: true, path: bin.path, version: bin.version.raw };
  } catch (err) {
    report.rclone = { found: false, error: (err as Error).message };
    if (ctx.config.sync || ctx.config.backup) attention.push(`rclone is not available: ${(err as Error).message}`);
  }

  const sync = ctx.config.sync;
  if (sync) {
    const remote = resolveRemote(sync.remote, sync.remotePath, defaultRcloneConf(ctx.stateDir), { withCrypt: true });
    const localRoot = path.resolve(ctx.workspaceDir, sync.localPath || ".");
    const state = await readSyncState(ctx.stateDir);
    Object.assign(report.sync, { mode: sync.mode, remote: remote.display, conflicts: state.conflicts ?? [] });
    if (state.lastRun) report.sync.lastRun = state.lastRun;
    if (state.lastSuccess) report.sync.lastSuccess = state.lastSuccess;
    if (sync.interval > 0) {
      const next = nextRunOf("sync", beat, alive, schedule, state.lastRun?.finishedAt);
      if (next) Object.assign(report.sync, { nextRun: next.at, nextRunBy: next.by });
    }
    const holder = await readLockHolder(syncLockFile(ctx.stateDir, pairId(localRoot, remote.path(""))));
    if (holder) report.sync.runningNow = { purpose: holder.purpose, pid: holder.pid, since: holder.since };
    report.sync.foreignTrashed = state.foreignTrashed ?? [];
    const last = state.lastRun;
    if (last && !last.ok) attention.push(`the last sync failed (${last.finishedAt}): ${last.error ?? "unknown error"}`);
    else if (!state.lastSuccess && last?.dryRun) attention.push("no sync has run yet: the last run was only a dry run (`workspace-sync sync` runs it)");
    else if (!state.lastSuccess && !holder) attention.push("no sync has run yet: `workspace-sync sync` runs the first one");
    if (report.sync.conflicts.length) attention.push(`${report.sync.conflicts.length} bisync conflict(s) pending: both versions were kept; look at the *.conflict files`);
    if (bin && ctx.problems.length === 0) {
      try {
        await writeRemoteSections(remote);
        if (await missingToken(remote, sync.remote.remoteName)) {
          attention.push(`no ${sync.remote.provider} token in ${remote.configPath} [${sync.remote.remoteName}]: run \`workspace-sync authorize\``);
        }
        const err = await reachable(bin, remote, resolveRemote(sync.remote, "", defaultRcloneConf(ctx.stateDir)), ctx.env);
        report.sync.reachable = !err;
        if (err) report.sync.reachError = err;
      } catch (err) {
        report.sync.reachable = false;
        report.sync.reachError = (err as Error).message;
      }
      if (report.sync.reachable === false) attention.push(`the sync remote ${remote.display} cannot be reached: ${report.sync.reachError}`);
    }
  }

  const backup = ctx.config.backup;
  if (backup) {
    report.backup.remote = resolveBackupRemote(ctx, backup).display;
    const state = await readBackupState(ctx.stateDir);
    const last = state.lastRun;
    if (last) {
      report.backup.lastRun = {
        finishedAt: last.finishedAt,
        ok: last.ok,
        ...(last.skipped ? { skipped: true } : {}),
        ...(last.error ? { error: last.error } : {}),
        ...(last.snapshot ? { detail: last.snapshot } : last.reason ? { detail: last.reason } : {}),
      };
    }
    if (state.lastSuccess) report.backup.lastSuccess = state.lastSuccess.finishedAt;
    if (backup.enabled) {
      const next = nextRunOf("backup", beat, alive, schedule, last?.finishedAt);
      if (next) Object.assign(report.backup, { nextRun: next.at, nextRunBy: next.by });
    }
    if (last && !last.ok) attention.push(`the last backup failed (${last.finishedAt}): ${last.error ?? "unknown error"}`);
    else if (backup.enabled && !state.lastSuccess) attention.push("no backup has been taken yet: `workspace-sync backup now` takes the first one");
  }

  const intervals = (sync && sync.interval > 0) || backup?.enabled;
  if (intervals && !alive && !(schedule.installed && schedule.active)) {
    report.warnings.push(
      beat && !beat.stoppedAt
        ? `the gateway's service was last seen ${beat.beatAt}: nothing runs the configured intervals now (start the gateway, or \`workspace-sync schedule install\`)`
        : "nothing runs the configured intervals: the gateway's service is not running here and no schedule is installed (`workspace-sync schedule install`)",
    );
  }
  report.exitCode = ctx.problems.length ? 2 : attention.length ? 1 : 0;
  return report;
}

function lastSyncLine(s: StatusReport["sync"]): string {
  const last = s.lastRun;
  if (!last) return "never";
  const what = `${last.finishedAt} ${last.ok ? (last.dryRun ? "dry run only" : "ok") : `FAILED: ${last.error}`}`;
  return last.dryRun && s.lastSuccess ? `${what} (last real sync ${s.lastSuccess})` : what;
}

function lastBackupLine(b: StatusReport["backup"]): string {
  const last = b.lastRun;
  if (!last) return "never";
  if (!last.ok) return `${last.finishedAt} FAILED: ${last.error}`;
  // A repository snapshot by its short ID, as `backup list` shows it and every command takes it (--json keeps the
  // whole ID); an archive snapshot by its name.
  const detail = last.detail && isSnapshotId(last.detail) ? `snapshot ${snapshotLabel(last.detail, undefined)}` : last.detail;
  return `${last.finishedAt} ${last.skipped ? `skipped (${detail ?? "unchanged"})` : `ok${detail ? `: ${detail}` : ""}`}`;
}

function schedulerLine(s: StatusReport["scheduler"]): string {
  const parts: string[] = [];
  if (s.service.alive) parts.push(`gateway service (pid ${s.service.pid} on ${s.service.host}, seen ${s.service.lastSeen})`);
  if (s.schedule.installed) parts.push(`${s.schedule.kind === "cron" ? "crontab" : "systemd timers"}${s.schedule.active ? "" : " (NOT in place)"}`);
  return parts.length ? parts.join(" + ") : "none (no live gateway service, no installed schedule)";
}

export function formatStatus(s: StatusReport): string {
  const lines = [
    `config:    ${s.configFile}${s.configFound ? "" : " (not found)"}`,
    `state:     ${s.stateDir}`,
    `workspace: ${s.workspaceDir}`,
    `rclone:    ${s.rclone.found ? `${s.rclone.version} (${s.rclone.path})` : `not available — ${s.rclone.error}`}`,
    `scheduler: ${schedulerLine(s.scheduler)}`,
  ];
  if (s.sync.configured) {
    lines.push(`sync:      ${s.sync.mode} → ${s.sync.remote}`);
    if (s.sync.reachable !== undefined) lines.push(`remote:    ${s.sync.reachable ? "reachable" : `NOT reachable — ${s.sync.reachError}`}`);
    lines.push(`last sync: ${lastSyncLine(s.sync)}`);
    if (s.sync.nextRun) lines.push(`next sync: ${s.sync.nextRun} (${s.sync.nextRunBy})`);
    if (s.sync.runningNow) lines.push(`running:   ${s.sync.runningNow.purpose}, pid ${s.sync.runningNow.pid} since ${s.sync.runningNow.since}`);
    for (const line of describeForeignRecords(s.sync.foreignTrashed)) lines.push(`trashed:   ${line}`);
  } else lines.push("sync:      not configured");
  if (s.backup.configured) {
    lines.push(`backup:    ${s.backup.enabled ? "enabled" : "configured, scheduled runs off"} → ${s.backup.remote}`);
    lines.push(`last backup: ${lastBackupLine(s.backup)}`);
    if (s.backup.nextRun) lines.push(`next backup: ${s.backup.nextRun} (${s.backup.nextRunBy})`);
  } else lines.push("backup:    not configured");
  for (const p of s.problems) lines.push(`problem:   ${p.key}: ${p.message}`);
  for (const w of s.warnings) lines.push(`warning:   ${w}`);
  if (s.needsAttention.length) {
    lines.push(`NEEDS ATTENTION (${s.needsAttention.length}):`);
    for (const a of s.needsAttention) lines.push(`  - ${a}`);
  } else lines.push("all well");
  return lines.join("\n");
}
