// `backup restore`: streams a snapshot, whatever its format, into a fresh staging folder (default: under the state
// dir, never the live workspace), refusing entries that would escape it, and makes the result visible only once the
// whole snapshot was read, checked by its format, and the restored files matched the snapshot's own record. Reports
// where it is and how it differs from the live locations.
import { readdirSync } from "node:fs";
import path from "node:path";
import { productDir } from "../state/paths.js";
import { BusyFailure, findCause, OperationError, UsageError } from "../util/errors.js";
import { idleGate } from "../util/idle-gate.js";
import { listCatalog, resolveSnapshot } from "./catalog.js";
import { count, type Counts, isSnapshotRoot, judge, noCounts } from "./entry-rules.js";
import type { SnapshotNode, SnapshotSummary } from "./formats/format.js";
import { type Formats, withFormats } from "./formats/index.js";
import { installGroup } from "./groups.js";
import type { BackupJob } from "./job.js";
import { unlockFor } from "./keys.js";
import { pathSelection } from "./path-selection.js";
import { createMeter, type ProgressSink } from "./progress.js";
import type { RestoreEntry, WriteStats } from "./restore/index.js";
import { foldersFirst, toRestoreEntry, writeFromReader } from "./restore/snapshot-source.js";
import { compareWithLive, type DiffSummary, type LiveSignatures, liveSignatures, restoredSignature } from "./restore-diff.js";
import { commitTarget, discardTarget, type PreparedTarget, prepareTarget } from "./restore-target.js";
import { stampOf } from "./stamp.js";

export interface RestoreOptions {
  snapshot?: string;
  to?: string;
  paths?: string[];
  dryRun?: boolean;
  force?: boolean;
  identity?: string;
  /** A dry run lists at most this many paths (the count is always complete); default: all. */
  listLimit?: number;
  onProgress?: ProgressSink;
}

export interface RestoreReport {
  snapshot: string;
  id: string;
  short_id: string;
  format: string;
  legacy: boolean;
  target?: string;
  dryRun: boolean;
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** Paths a dry run would restore (all of them, or the first `listLimit`). */
  entries?: string[];
  /** How many paths a dry run would restore (entries may hold fewer). */
  entriesTotal?: number;
  refused: { path: string; reason: string }[];
  diff?: DiffSummary;
}

export function defaultRestoreDir(stateDir: string, snapshot: string, now: Date): string {
  const base = snapshot.replace(/\..*$/, "");
  return path.join(productDir(stateDir), "restore", `${base}-restored-${stampOf(now)}`);
}

function noMatch(globs: string[], s: SnapshotSummary): UsageError {
  return new UsageError(
    `--path ${globs.map((g) => `'${g}'`).join(", ")} matched nothing in snapshot ${s.shortId} (${s.name}); nothing was restored. ` +
      "Paths start with the item's folder (e.g. workspace/memory, state/agents/*/agent/*.sqlite): `workspace-sync backup restore --dry-run` lists them",
  );
}

/**
 * Counts the regular files under a folder (what a restore really left there) from the folders' listings alone: the
 * file system's own word on each entry's type, no lstat per file (sizes are the writer's check, per file). Its own
 * walk: readdir's `recursive` option descends into symlinked folders.
 */
function filesOnDisk(root: string): number {
  let files = 0;
  const folders = [root];
  for (let dir = folders.pop(); dir !== undefined; dir = folders.pop()) {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (d.isDirectory()) folders.push(path.join(dir, d.name));
      else if (d.isFile()) files++;
    }
  }
  return files;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

export function restoreSnapshot(job: BackupJob, opts: RestoreOptions): Promise<RestoreReport> {
  return withFormats(job, (formats) => restoreSnapshotWith(job, formats, opts));
}

async function restoreSnapshotWith(job: BackupJob, formats: Formats, opts: RestoreOptions): Promise<RestoreReport> {
  const catalog = await listCatalog(formats.all);
  const snap = resolveSnapshot(catalog, opts.snapshot, installGroup(job));
  const keys = await unlockFor(job.config, opts.identity);
  const reader = formats.byName(snap.format).open(snap, keys); // a missing key is a usage error, before anything is written
  const selection = pathSelection(opts.paths);
  const report: RestoreReport = {
    snapshot: snap.name,
    id: snap.id,
    short_id: snap.shortId,
    format: snap.format,
    legacy: !snap.managed,
    dryRun: !!opts.dryRun,
    ...noCounts(),
    refused: [],
  };
  // With --path the snapshot's file count is not what will be written: no total (0) until the format counts the
  // selection (the repository does, from the folders it reaches).
  let totalFiles = opts.paths?.length ? 0 : (snap.files ?? 0);
  const meter = createMeter("restore", snap.storedBytes ?? 0, totalFiles, opts.onProgress);
  let bytesRead = 0;
  let prepared: PreparedTarget | undefined;
  // The live side of the comparison is walked while the restore runs (see restore-diff.ts); its failure only costs
  // the comparison. It starts on the first bytes of file data: before that the main thread is what the restore waits
  // for (the index, the trees, the folders), while the data is decoded and written partly beside it (repository
  // format, docs/performance.md). Its steps pass an idle gate (util/idle-gate.ts): they fill the main thread's waits
  // (for the decoder's thread, through large files) instead of delaying the writing of small files; once the files
  // are written, the rest runs at full speed. A dry run has no target and walks nothing.
  const walksLive = snap.layout.length > 0;
  let live: Promise<LiveSignatures | undefined> | undefined;
  const stopLive = new AbortController();
  const liveGate = idleGate();
  const startLive = () => {
    if (!walksLive || live || !prepared) return;
    const liveSignal = job.signal ? AbortSignal.any([job.signal, stopLive.signal]) : stopLive.signal;
    const descend = opts.paths?.length ? { descend: (p: string) => selection.mayContain(p) } : {};
    live = liveSignatures(snap.layout, job.config.exclude, [prepared.staging], liveSignal, { ...descend, gate: liveGate }).catch(() => undefined);
  };
  /** A folder that may hold an entry --path selects (a refused one is walked: its refusals are reported). */
  const mayHoldSelected = (n: SnapshotNode): boolean => {
    const rel = judge(n).rel;
    return rel === undefined || selection.mayContain(rel);
  };
  /** An entry the restore writes: restorable by the shared rules and chosen by --path. */
  const restores = (n: SnapshotNode): boolean => {
    const v = judge(n);
    return v.refused === undefined && selection.test(v.rel);
  };
  const readOpts = {
    signal: job.signal,
    writesFiles: !opts.dryRun,
    onBytes: (read: number, total: number) => {
      startLive();
      meter.setTotal(total, totalFiles);
      meter.update((bytesRead = read));
    },
    onTotal: (files: number, bytes: number) => {
      totalFiles = files;
      meter.setTotal(bytes, files);
    },
    // With --path, a format that fetches data ahead (the repository) fetches only the selected files' data, and one
    // that keeps folders apart does not walk those no glob can reach.
    ...(opts.paths?.length ? { wanted: restores, descend: mayHoldSelected } : {}),
  };

  if (opts.dryRun) {
    const limit = opts.listLimit ?? Number.POSITIVE_INFINITY;
    const entries: string[] = [];
    let total = 0;
    const visit = async (n: SnapshotNode) => {
      if (isSnapshotRoot(n)) return;
      const v = judge(n);
      if (v.rel !== undefined && !selection.test(v.rel)) return;
      if (v.refused !== undefined) return void report.refused.push({ path: n.path, reason: v.refused });
      count(report, n);
      total++;
      if (entries.length < limit) entries.push(v.rel);
      if (n.type === "file") meter.update(bytesRead, report.files);
    };
    // A format that keeps trees apart answers without file data; the others read (and check) the whole snapshot.
    if (reader.nodes) await reader.nodes(visit, readOpts);
    else await reader.entries(visit, readOpts);
    meter.finish();
    const unmatched = selection.unmatched();
    if (unmatched.length) throw noMatch(unmatched, snap);
    return { ...report, entries, entriesTotal: total };
  }

  const target = path.resolve(opts.to ?? defaultRestoreDir(job.stateDir, snap.name, job.now()));
  const needs = snap.bytes ?? snap.storedBytes ?? 0;
  const seen: Counts = noCounts(); // every restorable entry of the snapshot, selected or not
  const selected: Counts = noCounts(); // those the --path globs select
  // What the writer put in place (files and symlinks, by cleaned path): the restored side of the comparison with live.
  const restoredSigs = walksLive ? new Map<string, string>() : undefined;
  const selectedFiles = new Map<string, number>(); // raw path → size of each selected file (a refusal is counted by it)
  let written: WriteStats | undefined;
  // What the format holds to read data (the repository's lock) is taken while the trees are walked for the folders.
  const letGo = reader.prepareRead?.();
  try {
    prepared = await prepareTarget(target, !!opts.force);
    // A selection's files are counted in the same walk (the progress total), where the format keeps trees apart.
    const counting = opts.paths?.length && reader.nodes ? { files: 0, bytes: 0 } : undefined;
    // Without a count to take, the walk looks at folders alone (the format may leave the other nodes undecoded).
    const onNode = counting
      ? (n: SnapshotNode) => {
          if (n.type === "file" && restores(n)) {
            counting.files++;
            counting.bytes += n.size;
          }
        }
      : undefined;
    const folders = await foldersFirst(reader, (n) => !isSnapshotRoot(n) && restores(n), readOpts, onNode);
    ({ stats: written } = await writeFromReader(
      reader,
      (e) => {
        if (isSnapshotRoot(e)) return undefined;
        const v = judge(e);
        if (v.rel !== undefined && !selection.test(v.rel)) {
          if (v.refused === undefined) count(seen, e);
          return undefined;
        }
        // Refused by the rules every format shares: handed to the writer as such, so refusals keep snapshot order.
        if (v.refused !== undefined) return { path: e.path, type: "other", mode: 0, size: 0, refused: v.refused };
        count(seen, e);
        count(selected, e);
        if (e.type === "file") selectedFiles.set(e.path, e.size);
        return toRestoreEntry(e);
      },
      counting ? { ...readOpts, counted: counting } : readOpts,
      {
        target: prepared.staging,
        folders,
        ...(job.signal ? { signal: job.signal } : {}),
        onProgress: (s) => meter.update(bytesRead, s.files),
        ...(restoredSigs ? { onWritten: (rel: string, e: RestoreEntry) => void restoredSigs.set(rel, restoredSignature(e)) } : {}),
      },
    ));
    startLive(); // a snapshot without file data
    liveGate.hurry();
    meter.finish();
    const unmatched = selection.unmatched();
    if (unmatched.length) throw noMatch(unmatched, snap);
    checkRestored(snap, !opts.paths?.length, seen, selected, written, selectedFiles, prepared.staging);
  } catch (err) {
    stopLive.abort();
    liveGate.hurry();
    await live; // its walk must not run on beside a failed restore's cleanup
    await letGo?.();
    if (prepared) await discardTarget(prepared);
    if (err instanceof UsageError || err instanceof BusyFailure) throw err;
    if (isDiskFull(err)) {
      throw new OperationError(
        `restore target ${target} ran out of space (disk full: ${diskFullCode(err)}); the snapshot ${snap.name} is fine and unchanged, ` +
          `it needs about ${mib(needs)} unpacked: free space there or restore elsewhere with --to DIR; nothing was restored`,
        { cause: err },
      );
    }
    throw new OperationError(`${(err as Error).message}; nothing was restored`, { cause: err });
  }
  // The live picture is taken before the copy moves into place (a --force restore into a live location would
  // otherwise walk into its own files).
  const liveSigs = await live;
  try {
    await commitTarget(prepared);
  } catch (err) {
    stopLive.abort();
    // A merge cut short keeps its marker (the target is not complete); a new target stays absent.
    if (prepared.mode === "rename") await discardTarget(prepared);
    throw new OperationError(`the snapshot was read and checked, but moving it into ${target} failed: ${(err as Error).message}`, { cause: err });
  }
  report.target = target;
  Object.assign(report, { files: written.files, dirs: written.dirs, symlinks: written.symlinks, bytes: written.bytes, refused: written.refused });
  if (liveSigs && restoredSigs) report.diff = compareWithLive(snap.layout, restoredSigs, liveSigs, job.config.exclude, selection.test);
  return report;
}

/**
 * After the read, before the result becomes visible, three checks that fail the restore loudly:
 * - the snapshot held as many files as its own record says (a whole restore; the manifest's count for an archive);
 * - every selected file was written at the size the snapshot lists for it, or refused and reported (the writer checks
 *   each file's length against its listed size as it writes it);
 * - the staging folder holds exactly the files written (counted on disk from the folders' listings, independently of
 *   the writer's counts: nothing missing, nothing extra).
 * (Sizes are compared with each entry's own recorded size, not with the manifest's total: a file that shrank while it
 * was archived was padded to its recorded size and counted short in the total, with a warning at backup time.)
 */
function checkRestored(
  snap: SnapshotSummary,
  whole: boolean,
  seen: Counts,
  selected: Counts,
  written: WriteStats,
  selectedFiles: ReadonlyMap<string, number>,
  staging: string,
): void {
  if (whole && snap.files !== undefined && seen.files !== snap.files) {
    throw new Error(`snapshot ${snap.name} records ${snap.files} files, but ${seen.files} came out of it (the snapshot does not match its own record)`);
  }
  // Files the writer refused (something of the snapshot in their way): counted at their listed size.
  const refused = { files: 0, bytes: 0 };
  for (const r of written.refused) {
    const size = selectedFiles.get(r.path);
    if (size === undefined) continue;
    refused.files++;
    refused.bytes += size;
  }
  if (written.files + refused.files !== selected.files || written.bytes + refused.bytes !== selected.bytes) {
    throw new Error(
      `snapshot ${snap.name} lists ${selected.files} files (${selected.bytes} bytes) to restore, but ${written.files} (${written.bytes} bytes) were written ` +
        `and ${refused.files} refused`,
    );
  }
  const files = filesOnDisk(staging);
  if (files !== written.files) {
    throw new Error(`the restored copy holds ${files} files where ${written.files} files (${written.bytes} bytes) of snapshot ${snap.name} were written`);
  }
}

const DISK_FULL = new Set(["ENOSPC", "EDQUOT"]);

/** The local disk (or quota) is full somewhere in the error's cause chain. */
const diskFullCode = (err: unknown): string | undefined => findCause(err, (e) => !!e.code && DISK_FULL.has(e.code))?.code;

const isDiskFull = (err: unknown) => diskFullCode(err) !== undefined;
