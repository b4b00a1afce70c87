// `backup find PATTERN…`: which snapshots hold a file, like `restic find`. A pattern without "/" is matched against
// entry names, one with "/" against whole snapshot paths (globs: *, ?, [..], ** across folders). Searched: this
// install's group, newest first, or --all / --host / --agent as `backup list` selects. Repository snapshots answer
// from their trees; archive snapshots are read whole, each (the report says how many).
import picomatch from "picomatch";
import { UsageError } from "../util/errors.js";
import { resolveSnapshot } from "./catalog.js";
import { browseContext, normalizeSnapshotPath, openListed, visitNodes } from "./browse.js";
import { type Formats, withFormats } from "./formats/index.js";
import type { SnapshotNode } from "./formats/format.js";
import { installGroup } from "./groups.js";
import type { BackupJob } from "./job.js";
import { unlockFor } from "./keys.js";
import { selectListed } from "./list.js";

export interface FindOptions {
  patterns: string[];
  all?: boolean;
  host?: string;
  agent?: string;
  /** Only these snapshots (ID prefixes or names). */
  snapshots?: string[];
  ignoreCase?: boolean;
  identity?: string;
}

export interface FindMatch {
  path: string;
  type: SnapshotNode["type"];
  kind?: string;
  size: number;
  mode?: number;
  mtime?: string;
  linkTarget?: string;
}

export interface FindHits {
  id: string;
  short_id: string;
  snapshot: string;
  format: string;
  time: string;
  host: string;
  matches: FindMatch[];
}

export interface FindReport {
  patterns: string[];
  hits: FindHits[];
  /** Snapshots searched. */
  searched: number;
  /** Of them, read whole (no separate trees in their format). */
  read_whole: number;
  /** Snapshots that could not be searched (damaged, or a key this install lacks), with the reason. */
  skipped: { snapshot: string; short_id: string; error: string }[];
}

/** The matcher of a pattern: against the name without "/", against the whole path with it. */
export function findMatcher(patterns: string[], ignoreCase: boolean): (path: string) => boolean {
  const tests = patterns.map((raw) => {
    const pattern = raw.includes("/") ? normalizeSnapshotPath(raw) : raw;
    const m = picomatch(pattern, { dot: true, nocase: ignoreCase });
    return raw.includes("/") ? m : (p: string) => m(p.slice(p.lastIndexOf("/") + 1));
  });
  return (p) => tests.some((t) => t(p));
}

export function findInSnapshots(job: BackupJob, opts: FindOptions, onHits?: (hits: FindHits) => void): Promise<FindReport> {
  return withFormats(job, (formats) => findInSnapshotsWith(job, formats, opts, onHits));
}

async function findInSnapshotsWith(job: BackupJob, formats: Formats, opts: FindOptions, onHits?: (hits: FindHits) => void): Promise<FindReport> {
  if (!opts.patterns.length || opts.patterns.some((p) => p.trim() === "")) throw new UsageError("give a pattern to look for, e.g. `workspace-sync backup find '*.md'`");
  const ctx = await browseContext(formats);
  const group = installGroup(job);
  let targets = selectListed(ctx.catalog, group.key, { all: !!opts.all, ...(opts.host !== undefined ? { host: opts.host } : {}), ...(opts.agent !== undefined ? { agent: opts.agent } : {}) }).shown;
  if (opts.snapshots?.length) {
    targets = opts.snapshots.map((w) => resolveSnapshot(ctx.catalog, w, group));
  }
  const keys = await unlockFor(job.config, opts.identity);
  const matches = findMatcher(opts.patterns, !!opts.ignoreCase);
  const report: FindReport = { patterns: opts.patterns, hits: [], searched: 0, read_whole: 0, skipped: [] };
  for (const s of targets) {
    const hits: FindHits = { id: s.id, short_id: s.shortId, snapshot: s.name, format: s.format, time: s.time.toISOString(), host: s.host, matches: [] };
    try {
      const opened = openListed(ctx.formats, s, keys);
      if (!opened.treesApart) report.read_whole++;
      await visitNodes(
        opened,
        (n) => {
          if (!matches(n.path)) return;
          hits.matches.push({
            path: n.path,
            type: n.type,
            ...(n.kind ? { kind: n.kind } : {}),
            size: n.size,
            ...(n.mode !== undefined ? { mode: n.mode } : {}),
            ...(n.mtime ? { mtime: n.mtime.toISOString() } : {}),
            ...(n.linkTarget !== undefined ? { linkTarget: n.linkTarget } : {}),
          });
        },
        job.signal ? { signal: job.signal } : {},
      );
      report.searched++;
    } catch (err) {
      if (job.signal?.aborted) throw err;
      // One snapshot that cannot be read (another install's keys, damage) does not hide the others' results.
      if (targets.length === 1 || (err instanceof UsageError && !opts.all)) throw err;
      report.skipped.push({ snapshot: s.name, short_id: s.shortId, error: (err as Error).message });
      continue;
    }
    if (hits.matches.length) {
      report.hits.push(hits);
      onHits?.(hits);
    }
  }
  return report;
}
