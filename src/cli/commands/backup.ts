// `workspace-sync backup now|list|status|verify|ls|find|diff|export|restore|prune`: one `run` per subcommand (declared
// in cli/spec.ts), each building the BackupJob, calling the backup engine and printing its report (src/report/backup.ts)
// or --json through the invocation's output, with byte progress on a TTY.
import type { BackupJobOptions } from "../../app/backup-job.js";
import type { Progress } from "../../backup/index.js";
import {
  describeBackup,
  formatDiff,
  formatExport,
  formatFind,
  formatList,
  formatLsNode,
  formatPrune,
  formatRestore,
  formatStatus,
  formatVerify,
  lsNodeJson,
  lsSnapshotJson,
  wholeReadNote,
} from "../../report/backup.js";
import { OperationError } from "../../util/errors.js";
import type { Invocation } from "../invocation.js";
import { statsReporter } from "../progress.js";

/** The backup engine is loaded only when a backup command runs (a sync or status does not need it). */
const engine = () => import("../../backup/index.js");
const jobs = () => import("../../app/backup-job.js");

/** The job for a command: config, rclone, the folder, this install's host and agent (--agent). */
async function backupJob(inv: Invocation, write = false) {
  const agent = inv.globals.agent;
  const opts: BackupJobOptions = { ...(agent ? { agent } : {}), ...(write ? { write } : {}) };
  return (await jobs()).buildBackupJob(await inv.context(), opts);
}

/** The job of a command that streams a whole snapshot through this process (the bin tunes V8 for it). */
async function streamingJob(inv: Invocation, write = false) {
  const job = await backupJob(inv, write);
  const tune = inv.deps.tuneForStreaming;
  // A backup after an earlier one (write) mostly walks and takes files from its parent: tuned apart from a first one.
  if (tune) tune({ format: job.config.format, writes: write, incremental: write && (await (await engine()).hasCommittedSnapshot(job.stateDir)) });
  return job;
}

const REFUSED_LISTED = 50;

function refusedError(refused: { path: string; reason: string }[], dryRun: boolean): OperationError {
  const shown = refused.slice(0, REFUSED_LISTED).map((x) => `  ${JSON.stringify(x.path)}: ${x.reason}`);
  const more = refused.length > REFUSED_LISTED ? [`  … and ${refused.length - REFUSED_LISTED} more (--json lists all)`] : [];
  return new OperationError(
    [`${refused.length} entr${refused.length === 1 ? "y" : "ies"} of the snapshot ${dryRun ? "would be" : "were"} refused (unsafe: outside the target, through a symlink, or a device):`, ...shown, ...more].join("\n"),
  );
}

/** Paths a human dry run lists before it says the list is cut (--json lists all). */
const DRY_RUN_LISTED = 1000;

const LABELS: Record<Progress["phase"], string> = { backup: "backing up", verify: "verifying", restore: "restoring", export: "exporting" };

/** Runs with the same live line (TTY) / occasional log line as sync, or with none under -q (then a backup also skips
 * the pre-scan that only feeds the ETA). */
async function withProgress<T>(phase: Progress["phase"], inv: Invocation, run: (onProgress: ((p: Progress) => void) | undefined) => Promise<T>): Promise<T> {
  if (inv.out.quiet) return run(undefined);
  const view = statsReporter(LABELS[phase]);
  const onProgress = (p: Progress) =>
    view.onStats({
      bytes: p.bytes,
      totalBytes: p.totalBytes,
      transfers: p.files,
      totalTransfers: p.totalFiles,
      speed: p.speed,
      eta: p.eta,
      checks: 0,
      deletes: 0,
      renames: 0,
      errors: 0,
      elapsedTime: p.elapsedSeconds,
    });
  try {
    return await run(onProgress);
  } finally {
    view.done();
  }
}

/** A note about how the answer was found (stderr, not under -q). */
const note = (inv: Invocation, text: string | undefined) => {
  if (text) inv.log.info(text);
};

type Flags<T> = T & { json?: boolean };
const opts = <T>(inv: Invocation) => inv.opts as Flags<T>;

export async function now(inv: Invocation): Promise<void> {
  const job = await streamingJob(inv, true);
  const o = await withProgress("backup", inv, async (onProgress) => (await engine()).runBackup(job, { trigger: "cli", force: true, onProgress }));
  inv.out.result(describeBackup(o), o);
}

export async function list(inv: Invocation): Promise<void> {
  const flags = opts<{ all?: boolean; host?: string }>(inv);
  const agent = inv.globals.agent;
  const job = await backupJob(inv);
  const l = await (await engine()).listSnapshots(job, { all: !!flags.all, ...(flags.host !== undefined ? { host: flags.host } : {}), ...(agent !== undefined ? { agent } : {}) });
  inv.out.listing(formatList(l), l);
}

export async function status(inv: Invocation): Promise<void> {
  const agent = inv.globals.agent;
  const s = await (await engine()).backupStatus((await jobs()).buildBackupTarget(await inv.context(), agent ? { agent } : {}));
  inv.out.listing(formatStatus(s), s);
}

export async function verify(inv: Invocation): Promise<void> {
  const flags = opts<{ snapshot?: string; all?: boolean; readData?: boolean; subset?: string; identity?: string }>(inv);
  const job = await streamingJob(inv);
  const e = await engine();
  const subset = flags.subset !== undefined ? e.parseSubset(flags.subset) : undefined;
  const results = await withProgress("verify", inv, async (onProgress) => e.verifySnapshots(job, { ...flags, subset, onProgress }));
  inv.out.result(formatVerify(results), results);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new OperationError(`${failed.length} snapshot(s) failed verification: ${failed.map((f) => `${f.snapshot}: ${f.error}`).join("; ")}`);
}

export async function ls(inv: Invocation): Promise<void> {
  const [snapshot, paths] = inv.params as [string, string[]];
  const flags = opts<{ long?: boolean; recursive?: boolean; identity?: string }>(inv);
  const job = await backupJob(inv);
  // One JSON object per line (as `restic ls --json`), streamed: a listing can hold millions of entries.
  const w = inv.out.lines();
  try {
    await (await engine()).lsSnapshot(
      job,
      { snapshot, paths, recursive: !!flags.recursive, ...(flags.identity ? { identity: flags.identity } : {}) },
      (n) => w.line(flags.json ? JSON.stringify(lsNodeJson(n)) : formatLsNode(n, !!flags.long)),
      (start) => {
        if (flags.json) w.line(JSON.stringify(lsSnapshotJson(start)));
        if (start.read_whole_snapshot) note(inv, wholeReadNote(1, "listing"));
      },
    );
  } finally {
    w.flush();
  }
}

export async function find(inv: Invocation): Promise<void> {
  const [patterns] = inv.params as [string[]];
  const flags = opts<{ all?: boolean; host?: string; snapshot?: string[]; ignoreCase?: boolean; long?: boolean; identity?: string }>(inv);
  const agent = inv.globals.agent;
  const job = await backupJob(inv);
  const r = await (await engine()).findInSnapshots(job, {
    patterns,
    all: !!flags.all,
    ignoreCase: !!flags.ignoreCase,
    ...(flags.host !== undefined ? { host: flags.host } : {}),
    ...(agent !== undefined ? { agent } : {}),
    ...(flags.snapshot ? { snapshots: flags.snapshot } : {}),
    ...(flags.identity ? { identity: flags.identity } : {}),
  });
  note(inv, wholeReadNote(r.read_whole, "the search"));
  inv.out.listing(formatFind(r, !!flags.long), r);
}

export async function diff(inv: Invocation): Promise<void> {
  const [a, b] = inv.params as [string, string];
  const flags = opts<{ metadata?: boolean; identity?: string }>(inv);
  const job = await backupJob(inv);
  const r = await (await engine()).diffSnapshots(job, { a, b, metadata: !!flags.metadata, ...(flags.identity ? { identity: flags.identity } : {}) });
  if (r.compared_by === "content") note(inv, wholeReadNote(2, "the comparison"));
  inv.out.listing(formatDiff(r), r);
}

export async function exportSnapshot(inv: Invocation): Promise<void> {
  const flags = opts<{ snapshot?: string; to?: string; force?: boolean; identity?: string }>(inv);
  const job = await streamingJob(inv);
  const r = await withProgress("export", inv, async (onProgress) => (await engine()).exportSnapshot(job, { ...flags, ...(onProgress ? { onProgress } : {}) }));
  inv.out.result(formatExport(r), r);
}

export async function restore(inv: Invocation): Promise<void> {
  const flags = opts<{ snapshot?: string; to?: string; path?: string[]; dryRun?: boolean; force?: boolean; identity?: string }>(inv);
  const job = await streamingJob(inv);
  const listLimit = flags.json ? undefined : DRY_RUN_LISTED;
  const r = await withProgress("restore", inv, async (onProgress) =>
    (await engine()).restoreSnapshot(job, { ...flags, paths: flags.path, ...(listLimit ? { listLimit } : {}), onProgress }),
  );
  // A preview is its own output, -q or not; the report of a real restore is silent under -q.
  if (r.dryRun) inv.out.listing(formatRestore(r), r);
  else inv.out.result(formatRestore(r), r);
  // The safe entries are in place (or listed), but the snapshot held entries that cannot be restored safely.
  if (r.refused.length) throw refusedError(r.refused, !!r.dryRun);
}

export async function prune(inv: Invocation): Promise<void> {
  const flags = opts<{ dryRun?: boolean; includeLegacy?: boolean }>(inv);
  const p = await (await engine()).pruneRepository(await backupJob(inv), flags);
  if (flags.dryRun) inv.out.listing(formatPrune(p), p);
  else inv.out.result(formatPrune(p), p);
}
