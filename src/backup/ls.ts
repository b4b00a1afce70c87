// `backup ls SNAPSHOT [PATH]`: a snapshot's files, like `restic ls`. Without PATH every entry; with PATH the entry
// there and, for a folder, its direct children (--recursive: everything below it). Entries are handed out as they are
// read (a snapshot can hold millions). A repository snapshot answers from its trees alone; an archive snapshot is
// read whole (its format keeps no separate tree), which the report says.
import { UsageError } from "../util/errors.js";
import { browseContext, normalizeSnapshotPath, openNamed, shownPath, visitNodes } from "./browse.js";
import { type Formats, withFormats } from "./formats/index.js";
import type { SnapshotNode } from "./formats/format.js";
import type { BackupJob } from "./job.js";

export interface LsOptions {
  snapshot?: string;
  /** Snapshot paths to list ("workspace/memory", "/workspace/memory/"). */
  paths?: string[];
  recursive?: boolean;
  identity?: string;
}

export interface LsReport {
  id: string;
  short_id: string;
  snapshot: string;
  format: string;
  time: string;
  host: string;
  paths: string[];
  /** True when the listing read the whole snapshot (formats without separate trees). */
  read_whole_snapshot: boolean;
  /** Entries listed. */
  listed: number;
}

/** Whether a node is shown for the PATH filters, and whether the walk must look below it (restic ls's rules). */
export function lsFilter(paths: string[] | undefined, recursive: boolean): (nodePath: string) => boolean {
  const dirs = (paths ?? []).map(normalizeSnapshotPath);
  if (dirs.length === 0 || dirs.includes("")) return () => true;
  return (p) =>
    dirs.some((d) => {
      if (p === d) return true;
      if (!p.startsWith(`${d}/`)) return false;
      return recursive || !p.slice(d.length + 1).includes("/");
    });
}

/**
 * Which folders the walk must look into for those PATH filters: the ones on the way to a PATH, a PATH itself, and
 * with --recursive everything below it (restic ls reads no other trees either). Where trees are kept apart, the
 * others are listed where shown but never read.
 */
export function lsDescend(paths: string[] | undefined, recursive: boolean): (dirPath: string) => boolean {
  const dirs = (paths ?? []).map(normalizeSnapshotPath);
  if (dirs.length === 0 || dirs.includes("")) return () => true;
  return (p) => dirs.some((d) => p === d || d.startsWith(`${p}/`) || (recursive && p.startsWith(`${d}/`)));
}

export function lsSnapshot(job: BackupJob, opts: LsOptions, emit: (node: SnapshotNode) => void, onStart?: (report: LsReport) => void): Promise<LsReport> {
  return withFormats(job, (formats) => lsSnapshotWith(job, formats, opts, emit, onStart));
}

async function lsSnapshotWith(job: BackupJob, formats: Formats, opts: LsOptions, emit: (node: SnapshotNode) => void, onStart?: (report: LsReport) => void): Promise<LsReport> {
  const ctx = await browseContext(formats);
  const opened = await openNamed(job, ctx, opts.snapshot, opts.identity);
  const s = opened.snapshot;
  const report: LsReport = {
    id: s.id,
    short_id: s.shortId,
    snapshot: s.name,
    format: s.format,
    time: s.time.toISOString(),
    host: s.host,
    paths: s.paths,
    read_whole_snapshot: !opened.treesApart,
    listed: 0,
  };
  onStart?.(report);
  const shown = lsFilter(opts.paths, !!opts.recursive);
  const descend = lsDescend(opts.paths, !!opts.recursive);
  await visitNodes(
    opened,
    (n) => {
      if (!shown(n.path)) return;
      report.listed++;
      emit(n);
    },
    { ...(job.signal ? { signal: job.signal } : {}), ...(opts.paths?.length ? { descend: (n: SnapshotNode) => descend(shownPath(n.path)) } : {}) },
  );
  if (opts.paths?.length && report.listed === 0) {
    throw new UsageError(
      `${opts.paths.map((p) => `'${p}'`).join(", ")} is not in snapshot ${s.shortId} (${s.name}): \`workspace-sync backup ls ${s.shortId}\` lists its paths`,
    );
  }
  return report;
}
