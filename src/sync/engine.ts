// One sync cycle of the configured mode (or a one-off direction), under the single-flight lock,
// with its outcome persisted for `status`.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { RcloneError, runRclone } from "../rclone/runner.js";
import { acquireLock } from "../state/lock.js";
import { productDir } from "../state/paths.js";
import { readJson, updateJson } from "../state/state-store.js";
import { UsageError } from "../util/errors.js";
import { type BisyncResult, keepResyncReplacements, previewResync, type ResyncPreview, runBisync } from "./bisync.js";
import { stopOrphans, recordChild } from "../rclone/orphans.js";
import { drainOutbox, listOutbox } from "./drain.js";
import { excludePatterns, INBOX, LOCAL_PRODUCT_DIR, modeExcludedFolders, OUTBOX, REMOTE_TRASH_DIR, toFilterArgs, userExcludes } from "./filters.js";
import { push, type PushResult } from "./push.js";
import type { ChangeJournal } from "./change-journal.js";
import { ingest } from "./ingest.js";
import { pairKey, rcloneCallOptions, type SyncJob } from "./job.js";
import { oneWaySync, type OneWayResult } from "./one-way.js";
import { purgeTrash } from "./trash.js";
import type { DeleteLimit, RunHint } from "./guard.js";
import { foreignNotice, keepForeignRecords } from "./foreign.js";

export type Trigger = "cli" | "interval" | "session_start" | "session_end" | "command";

export interface CycleOptions {
  dryRun?: boolean;
  direction?: "push" | "pull";
  resync?: boolean;
  /** bisync only: let rclone go past its "all files changed" safety abort for this run (--force). */
  force?: boolean;
  /** Confirmation already given (--yes). */
  yes?: boolean;
  /** Asks the user; undefined means nobody can be asked. */
  confirm?: (question: string, detail: string) => Promise<boolean>;
  trigger?: Trigger;
  lockWaitMs?: number;
  /** Live watcher of the local sync root (plugin service): lets an idle cycle skip the local scan. */
  journal?: ChangeJournal;
  /** `sync --max-delete N|N%`: this run's deletion limit instead of sync.maxDelete. */
  maxDelete?: DeleteLimit;
}

export interface CycleReport {
  mode: string;
  direction?: "push" | "pull";
  dryRun: boolean;
  pushed?: PushResult;
  pulled?: OneWayResult;
  arrived: string[];
  bisync?: BisyncResult;
  resyncPreview?: ResyncPreview;
  cancelled?: boolean;
  durationMs: number;
  /** What the user should know beyond the counts (files moved to the trash that nobody asked about, a dry run's
   * deletion preview, how a resync compared), one line each, for the summary. */
  notices: string[];
}

export interface RunRecord {
  trigger: Trigger;
  mode: string;
  direction?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  dryRun: boolean;
  error?: string;
  copied: number;
  deleted: number;
  arrived: string[];
  bytes: number;
}

/** Files a full compare found only on the remote and moved to the trash (nobody asked for it: status says so). */
export interface ForeignTrashed {
  at: string;
  count: number;
  /** The first names (rclone's printable form). */
  paths: string[];
  /** Where they are kept (the remote's trash folder, shown without secrets). */
  keptIn: string;
  /** When the trash purge removes them. */
  until: string;
}

export interface SyncState {
  lastRun?: RunRecord;
  lastSuccess?: string;
  conflicts: string[];
  bootstrapped: Record<string, boolean>;
  lastTrashPurge?: string;
  /** The latest runs that moved remote-only files to the trash, while those are still kept (newest last). */
  foreignTrashed?: ForeignTrashed[];
}

export function syncStateFile(stateDir: string): string {
  return path.join(productDir(stateDir), "sync-state.json");
}

export function syncLockFile(stateDir: string, key: string): string {
  return path.join(productDir(stateDir), "locks", `sync-${key}.lock`);
}

export async function readSyncState(stateDir: string): Promise<SyncState> {
  return readJson<SyncState>(syncStateFile(stateDir), { conflicts: [], bootstrapped: {} });
}

function pushPatterns(job: SyncJob): string[] {
  const c = job.config;
  return excludePatterns(userExcludes(c), modeExcludedFolders(c.mode, c.ingest, c.ingestPath), job.protectedPatterns);
}

function pushFilters(job: SyncJob): string[] {
  return toFilterArgs(pushPatterns(job));
}

async function bootstrap(job: SyncJob, state: SyncState): Promise<void> {
  // A missing workspace is never synced as an empty one (a push would empty the cloud copy, a pull refill a lost disk).
  if (job.workspaceMissing) throw new UsageError(job.workspaceMissing);
  await mkdir(job.localRoot, { recursive: true });
  if (job.config.mode === "mailbox") await mkdir(path.join(job.localRoot, INBOX), { recursive: true });
  if (state.bootstrapped[pairKey(job)]) return;
  if (job.config.mode === "mailbox") {
    // A remote that cannot be reached fails the cycle here, before anything else is tried.
    const res = await runRclone(job.bin, { args: ["mkdir", job.remote.path(OUTBOX)], ...rcloneCallOptions(job) });
    if (res.code !== 0) throw new RcloneError("mkdir", res);
  }
}

/** How the user runs this cycle again from the command line, for the deletion guard's advice. */
function runHint(job: SyncJob, opts: CycleOptions): RunHint {
  if (opts.direction === "push") return { command: "workspace-sync sync --direction push" };
  if (opts.direction === "pull") return { command: "workspace-sync sync --direction pull --yes" };
  return job.config.mode === "bisync" ? { command: "workspace-sync sync", percentOnly: true } : { command: "workspace-sync sync" };
}

async function runMode(job: SyncJob, opts: CycleOptions, report: CycleReport): Promise<void> {
  const changedHint = opts.journal?.take();
  const remoteTrash = job.config.trashDays > 0 ? job.remote.path(REMOTE_TRASH_DIR) : undefined;
  const localTrash = job.config.trashDays > 0 ? path.join(job.localRoot, LOCAL_PRODUCT_DIR, "trash") : undefined;
  const hint = runHint(job, opts);
  const doPush = async (full: boolean) => {
    const pushed = await push(job, {
      filterArgs: pushFilters(job),
      excludePatterns: pushPatterns(job),
      trashRoot: remoteTrash,
      dryRun: opts.dryRun,
      full,
      changedHint,
      hint,
    });
    report.notices.push(...(pushed.guardPreview ?? []));
    if (pushed.foreign?.length) report.notices.push(foreignNotice(job, pushed, !!opts.dryRun));
    return pushed;
  };

  if (opts.direction === "push") {
    report.pushed = await doPush(true);
    return;
  }
  if (opts.direction === "pull") {
    if (!opts.dryRun && !opts.yes) {
      const ok = opts.confirm
        ? await opts.confirm("Pull from the remote into the workspace?", "A pull can delete and overwrite workspace files (kept in the trash area).")
        : false;
      if (!ok) throw new UsageError("`sync --direction pull` can delete and overwrite workspace files: confirm interactively or pass --yes");
    }
    report.pulled = await oneWaySync(job, {
      source: job.remote.path(""),
      destination: job.localRoot,
      destinationSide: "workspace",
      filterArgs: pushFilters(job),
      trashRoot: localTrash,
      dryRun: opts.dryRun,
      hint,
    });
    report.notices.push(...(report.pulled.guardPreview ?? []));
    return;
  }
  switch (job.config.mode) {
    case "mailbox": {
      // The outbox listing (remote) runs while the push scans the workspace (local).
      const listing = listOutbox(job);
      listing.catch(() => {}); // a failing listing is reported by the drain below, not as an unhandled rejection
      report.pushed = await doPush(false);
      report.arrived = (await drainOutbox(job, { dryRun: opts.dryRun, listing })).arrived;
      return;
    }
    case "mirror": {
      report.pushed = await doPush(false);
      if (job.config.ingest) report.arrived = (await ingest(job, { dryRun: opts.dryRun })).arrived;
      return;
    }
    case "bisync": {
      if (opts.maxDelete && "count" in opts.maxDelete) {
        throw new UsageError("in bisync mode --max-delete takes a percentage (rclone bisync checks each side's deletions as a share of its files), e.g. --max-delete 80%");
      }
      const maxDeletePercent = opts.maxDelete && "percent" in opts.maxDelete ? opts.maxDelete.percent : undefined;
      let preview: ResyncPreview | undefined;
      if (opts.resync) {
        preview = await previewResync(job);
        report.resyncPreview = preview;
        if (opts.dryRun) report.notices.push(...resyncNotices(job, preview));
      }
      if (opts.resync && !opts.dryRun && preview) {
        if (!opts.yes) {
          const detail =
            `to the remote: ${preview.toRemote.length} file(s); to the workspace: ${preview.toLocal.length} file(s); ` +
            `present on both with different contents (workspace version wins${job.config.trashDays > 0 ? ", the remote one is kept in the trash" : ""}): ${preview.differ.length}`;
          const ok = opts.confirm ? await opts.confirm("Run the bisync resync?", detail) : false;
          if (!ok) {
            if (!opts.confirm) throw new UsageError(`--resync copies files both ways (${detail}); confirm interactively or pass --yes`);
            report.cancelled = true;
            return;
          }
        }
        const keptIn = await keepResyncReplacements(job, preview.differ);
        report.bisync = await runBisync(job, { resync: true, force: opts.force, checksum: preview.hashed, maxDeletePercent });
        if (keptIn) report.bisync.keptIn = keptIn;
        report.notices.push(...resyncNotices(job, preview, keptIn));
        return;
      }
      if (opts.resync && opts.dryRun) {
        // The preview is the dry run: rclone's own would add nothing (and fails on a remote folder not made yet).
        report.bisync = { conflicts: [], resynced: false, dryRun: true };
        return;
      }
      report.bisync = await runBisync(job, { dryRun: opts.dryRun, force: opts.force, maxDeletePercent });
      report.notices.push(...(report.bisync.guardPreview ?? []));
      return;
    }
  }
}

/** How a resync compared the sides and where the remote versions it replaces are kept (`keptIn`: after a real run). */
function resyncNotices(job: SyncJob, p: ResyncPreview, keptIn?: string): string[] {
  const lines = [
    p.hashed
      ? "resync compared both sides by content (hashes)"
      : "the remote has no hash in common with the workspace: files of the same size and time are taken as equal (not compared by content)",
  ];
  if (p.differ.length) {
    const shown = p.differ.slice(0, 20).join(", ") + (p.differ.length > 20 ? `, … (${p.differ.length - 20} more)` : "");
    const trash = keptIn ? `${job.remote.display}/${REMOTE_TRASH_DIR}/${path.posix.basename(keptIn)}` : `${job.remote.display}/${REMOTE_TRASH_DIR}/`;
    const kept = job.config.trashDays > 0 ? ` ${keptIn ? "are" : "would be"} kept in ${trash} for ${job.config.trashDays} day(s)` : " are not kept (trashDays is 0)";
    lines.push(`differing (the workspace version wins; the remote versions${kept}): ${shown}`);
  }
  return lines;
}

export async function runSyncCycle(job: SyncJob, opts: CycleOptions = {}): Promise<CycleReport> {
  if (opts.resync && job.config.mode !== "bisync") throw new UsageError("--resync applies to bisync mode only");
  if (opts.force && (job.config.mode !== "bisync" || opts.direction)) throw new UsageError("--force applies to a bisync run only (not with --direction)");
  const key = pairKey(job);
  const lockFile = syncLockFile(job.stateDir, key);
  const lock = await acquireLock(lockFile, `sync (${opts.trigger ?? "cli"})`, opts.lockWaitMs ?? 0);
  const started = new Date();
  const report: CycleReport = { mode: job.config.mode, direction: opts.direction, dryRun: !!opts.dryRun, arrived: [], durationMs: 0, notices: [] };
  const stateFile = syncStateFile(job.stateDir);
  const childrenFile = `${lockFile}.children`;
  const jobWithChildTracking: SyncJob = {
    ...job,
    onChild: (pid) => recordChild(childrenFile, pid),
    ...(opts.maxDelete ? { maxDeleteOverride: opts.maxDelete } : {}),
  };
  let error: Error | undefined;
  try {
    await stopOrphans(childrenFile, job.log);
    const state = await readSyncState(job.stateDir);
    await bootstrap(jobWithChildTracking, state);
    await runMode(jobWithChildTracking, opts, report);
  } catch (err) {
    error = err as Error;
    opts.journal?.invalidate(); // changes the failed cycle consumed must be looked at again
  }
  const finished = new Date();
  report.durationMs = finished.getTime() - started.getTime();
  try {
    const moved = report.pushed ?? report.pulled;
    await updateJson<SyncState>(stateFile, { conflicts: [], bootstrapped: {} }, (s) => {
      s.conflicts ??= [];
      s.bootstrapped ??= {};
      s.lastRun = {
        trigger: opts.trigger ?? "cli",
        mode: job.config.mode,
        direction: opts.direction,
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        durationMs: report.durationMs,
        ok: !error,
        dryRun: !!opts.dryRun,
        error: error?.message,
        copied: moved?.copied.length ?? 0,
        deleted: moved?.deleted.length ?? 0,
        arrived: report.arrived.slice(0, 50),
        bytes: moved?.bytes ?? 0,
      };
      if (!error && !opts.dryRun) {
        s.lastSuccess = finished.toISOString();
        s.bootstrapped[key] = true;
        if (report.bisync) s.conflicts = report.bisync.conflicts;
      }
      s.foreignTrashed = keepForeignRecords(s.foreignTrashed, !opts.dryRun ? report.pushed : undefined, job, finished);
    });
    if (!error && !opts.dryRun && job.config.trashDays > 0) await maybePurgeTrash(jobWithChildTracking);
  } finally {
    await lock.release();
  }
  if (error) throw error;
  return report;
}

async function maybePurgeTrash(job: SyncJob): Promise<void> {
  const state = await readSyncState(job.stateDir);
  const last = state.lastTrashPurge ? Date.parse(state.lastTrashPurge) : 0;
  if (Date.now() - last < 86_400_000) return;
  const common = { ...rcloneCallOptions(job), log: job.log };
  await purgeTrash(job.bin, job.remote.path(REMOTE_TRASH_DIR), job.config.trashDays, common);
  await purgeTrash(job.bin, path.join(job.localRoot, LOCAL_PRODUCT_DIR, "trash"), job.config.trashDays, common);
  await updateJson<SyncState>(syncStateFile(job.stateDir), { conflicts: [], bootstrapped: {} }, (s) => {
    s.lastTrashPurge = new Date().toISOString();
  });
}
