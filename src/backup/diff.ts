// `backup diff A B`: what changed from snapshot A to snapshot B, like `restic diff` — entries added (+), removed (-),
// modified (M: a file's content or a symlink's target), of another type (T), and with --metadata those whose mode or
// time alone changed (U); with sizes and totals. Two snapshots of a format that keeps trees apart (the restic
// repository) are compared from their trees: a file's content list identifies its content, no data is downloaded.
// Otherwise (archive snapshots, or two formats) both are read whole and each file's content is hashed.
import { createHash } from "node:crypto";
import { browseContext, openNamed, type OpenedSnapshot, shownPath, visitNodes } from "./browse.js";
import { type Formats, withFormats } from "./formats/index.js";
import type { SnapshotNode } from "./formats/format.js";
import type { BackupJob } from "./job.js";

export interface DiffOptions {
  a: string;
  b: string;
  /** Also report entries whose mode or modification time alone changed. */
  metadata?: boolean;
  identity?: string;
}

export type ChangeKind = "+" | "-" | "M" | "T" | "U";

export interface DiffSide {
  type: SnapshotNode["type"];
  kind?: string;
  size: number;
}

export interface DiffChange {
  path: string;
  change: ChangeKind;
  before?: DiffSide;
  after?: DiffSide;
}

interface Tally {
  files: number;
  dirs: number;
  symlinks: number;
  others: number;
  bytes: number;
}

export interface DiffReport {
  a: { id: string; short_id: string; snapshot: string; format: string; time: string };
  b: { id: string; short_id: string; snapshot: string; format: string; time: string };
  /** "trees": compared from the trees (content lists); "content": both read whole, contents hashed. */
  compared_by: "trees" | "content";
  changes: DiffChange[];
  summary: { added: Tally; removed: Tally; modified: { files: number; symlinks: number; bytes_before: number; bytes_after: number }; type_changed: number; metadata_changed: number; unchanged: number };
}

interface Sig {
  type: SnapshotNode["type"];
  kind?: string;
  size: number;
  /** Content identity (file) or link target (symlink). */
  key?: string;
  mode?: number;
  mtime?: number;
}

const tally = (): Tally => ({ files: 0, dirs: 0, symlinks: 0, others: 0, bytes: 0 });

function add(t: Tally, s: Sig): void {
  if (s.type === "file") {
    t.files++;
    t.bytes += s.size;
  } else if (s.type === "dir") t.dirs++;
  else if (s.type === "symlink") t.symlinks++;
  else t.others++;
}

const side = (s: Sig): DiffSide => ({ type: s.type, ...(s.kind ? { kind: s.kind } : {}), size: s.size });

/** path → signature of every entry, from the trees or from a full read hashing each file's content. */
async function signatures(opened: OpenedSnapshot, byTrees: boolean, signal?: AbortSignal): Promise<Map<string, Sig>> {
  const out = new Map<string, Sig>();
  const base = (n: SnapshotNode): Sig => ({
    type: n.type,
    ...(n.kind ? { kind: n.kind } : {}),
    size: n.size,
    ...(n.type === "symlink" ? { key: n.linkTarget ?? "" } : {}),
    ...(n.mode !== undefined ? { mode: n.mode } : {}),
    ...(n.mtime ? { mtime: n.mtime.getTime() } : {}),
  });
  const opts = signal ? { signal } : {};
  if (byTrees) {
    await visitNodes(opened, (n) => void out.set(n.path, { ...base(n), ...(n.type === "file" ? { key: n.contentId ?? "" } : {}) }), opts);
    return out;
  }
  await opened.reader.entries(async (e) => {
    const sig = base(e);
    if (e.type === "file") {
      const h = createHash("sha256");
      for await (const chunk of e.content()) h.update(chunk);
      sig.key = h.digest("hex");
    }
    out.set(shownPath(e.path), sig);
  }, opts);
  return out;
}

export function diffSnapshots(job: BackupJob, opts: DiffOptions): Promise<DiffReport> {
  return withFormats(job, (formats) => diffSnapshotsWith(job, formats, opts));
}

async function diffSnapshotsWith(job: BackupJob, formats: Formats, opts: DiffOptions): Promise<DiffReport> {
  const ctx = await browseContext(formats);
  const a = await openNamed(job, ctx, opts.a, opts.identity);
  const b = await openNamed(job, ctx, opts.b, opts.identity);
  const byTrees = a.treesApart && b.treesApart && a.snapshot.format === b.snapshot.format;
  const before = await signatures(a, byTrees, job.signal);
  const after = await signatures(b, byTrees, job.signal);
  const info = (o: OpenedSnapshot) => ({ id: o.snapshot.id, short_id: o.snapshot.shortId, snapshot: o.snapshot.name, format: o.snapshot.format, time: o.snapshot.time.toISOString() });
  const report: DiffReport = {
    a: info(a),
    b: info(b),
    compared_by: byTrees ? "trees" : "content",
    changes: [],
    summary: { added: tally(), removed: tally(), modified: { files: 0, symlinks: 0, bytes_before: 0, bytes_after: 0 }, type_changed: 0, metadata_changed: 0, unchanged: 0 },
  };
  const sum = report.summary;
  for (const [path, now] of after) {
    const was = before.get(path);
    before.delete(path);
    if (!was) {
      report.changes.push({ path, change: "+", after: side(now) });
      add(sum.added, now);
    } else if (was.type !== now.type || was.kind !== now.kind) {
      report.changes.push({ path, change: "T", before: side(was), after: side(now) });
      sum.type_changed++;
    } else if ((now.type === "file" || now.type === "symlink") && (was.key !== now.key || was.size !== now.size)) {
      report.changes.push({ path, change: "M", before: side(was), after: side(now) });
      if (now.type === "file") {
        sum.modified.files++;
        sum.modified.bytes_before += was.size;
        sum.modified.bytes_after += now.size;
      } else sum.modified.symlinks++;
    } else if (opts.metadata && (was.mode !== now.mode || (now.type !== "dir" && was.mtime !== now.mtime))) {
      report.changes.push({ path, change: "U", before: side(was), after: side(now) });
      sum.metadata_changed++;
    } else sum.unchanged++;
  }
  for (const [path, was] of before) {
    report.changes.push({ path, change: "-", before: side(was) });
    add(sum.removed, was);
  }
  report.changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return report;
}
