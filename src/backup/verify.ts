// `backup verify`: checks snapshots through their format without writing a file, and reports what they hold.
// A format that keeps its own structure (the restic repository: index, packs, trees) checks that by default and
// reads the data back with --read-data (or a random --subset of it, as `restic check --read-data-subset`); the
// one-object formats (archive, legacy) are always read back end to end — authentication, hashes, decompression, every
// entry — which is what their verify always did (--subset then reads that share of the snapshots). `--all`: every
// snapshot of this install's group and the older plugin's (another install's snapshots may need keys this one does
// not hold). The snapshots of one format are checked in one call, so shared data is read once.
import { BusyFailure, UsageError } from "../util/errors.js";
import { type Catalog, inGroup, listCatalog, resolveSnapshot, unmanaged } from "./catalog.js";
import type { SnapshotSummary } from "./formats/format.js";
import { type Formats, withFormats } from "./formats/index.js";
import { type Group, installGroup } from "./groups.js";
import type { BackupJob } from "./job.js";
import { unlockFor } from "./keys.js";
import { createMeter, type ProgressSink } from "./progress.js";

export interface VerifyOptions {
  snapshot?: string;
  all?: boolean;
  /** Read the data back too, where the format checks structure apart (always done for the one-object formats). */
  readData?: boolean;
  /** With readData: this fraction of the data (0 < subset ≤ 1). */
  subset?: number;
  identity?: string;
  onProgress?: ProgressSink;
}

export interface VerifyResult {
  snapshot: string;
  id?: string;
  short_id?: string;
  format?: string;
  legacy: boolean;
  ok: boolean;
  error?: string;
  files?: number;
  dirs?: number;
  symlinks?: number;
  bytes?: number;
  storedBytes?: number;
  sha256?: string;
  /** Whether data was read back (false: a structure check). */
  readData?: boolean;
  /** With readData: the fraction of the data read back (--subset), when not all of it. */
  subset?: number;
  /** Non-critical findings of the format (restic check's hints). */
  hints?: string[];
  /**
   * Removed after this verify listed it (a forget, or another run's retention, which a backup runs under its shared
   * lock): there is nothing left to check, and nothing is damaged. Counted as ok for the exit code.
   */
  forgotten?: boolean;
}

/** "10%", "2.5%", "0.1" → a fraction in (0, 1]; a usage error otherwise. */
export function parseSubset(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const value = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(value > 0 && value <= 1)) throw new UsageError(`--subset ${JSON.stringify(text)}: give a share of the data such as 10% (more than 0, at most 100%)`);
  return value;
}

export function pickSnapshots(catalog: Catalog, wanted: string | undefined, all: boolean, group: Group): SnapshotSummary[] {
  if (all) return [...inGroup(catalog, group), ...unmanaged(catalog)];
  return [resolveSnapshot(catalog, wanted, group)];
}

export function verifySnapshots(job: BackupJob, opts: VerifyOptions): Promise<VerifyResult[]> {
  return withFormats(job, (formats) => verifySnapshotsWith(job, formats, opts));
}

async function verifySnapshotsWith(job: BackupJob, formats: Formats, opts: VerifyOptions): Promise<VerifyResult[]> {
  if (opts.subset !== undefined && !opts.readData) throw new UsageError("--subset goes with --read-data (it says how much of the data to read back)");
  const catalog = await listCatalog(formats.all);
  const group = installGroup(job);
  const targets = pickSnapshots(catalog, opts.snapshot, !!opts.all, group);
  const keys = await unlockFor(job.config, opts.identity);
  const results: VerifyResult[] = [];
  // One check per format, its snapshots together (in the order given).
  const byFormat = new Map<string, SnapshotSummary[]>();
  for (const s of targets) byFormat.set(s.format, [...(byFormat.get(s.format) ?? []), s]);
  for (const [name, snapshots] of byFormat) {
    const format = formats.byName(name);
    const readData = !format.checksStructure || !!opts.readData;
    const expected = snapshots.reduce((n, s) => n + (s.files ?? 0), 0);
    const meter = createMeter("verify", snapshots.reduce((n, s) => n + (s.storedBytes ?? 0), 0), expected, opts.onProgress);
    let files = 0;
    let bytesRead = 0;
    // --subset reads a share of a repository's packs; each archive snapshot is read whole or not at all.
    const subset = format.checksStructure && readData && opts.subset !== undefined && opts.subset < 1 ? { subset: opts.subset } : {};
    const base = (s: SnapshotSummary) => ({ snapshot: s.name, id: s.id, short_id: s.shortId, format: s.format, legacy: !s.managed, readData, ...subset });
    try {
      const report = await format.check({
        snapshots,
        readData,
        ...(readData && opts.subset !== undefined ? { subset: opts.subset } : {}),
        keys,
        signal: job.signal,
        onBytes: (read, total) => {
          meter.setTotal(total, expected);
          meter.update((bytesRead = read), files);
        },
        onEntry: (e) => {
          if (e.type === "file") meter.update(bytesRead, ++files);
        },
      });
      meter.finish();
      const hints = report.hints?.length ? { hints: report.hints } : {};
      for (const s of snapshots) {
        const r = report.results.find((x) => x.snapshot.id === s.id && x.snapshot.name === s.name);
        if (!r) results.push({ ...base(s), ok: false, error: report.problems.join("; ") || "the format did not check this snapshot" });
        else if (r.gone) results.push({ ...base(s), ok: true, forgotten: true, ...hints });
        else if (!r.ok) results.push({ ...base(s), ok: false, error: r.error ?? report.problems.join("; "), ...hints });
        else results.push({ ...base(s), ok: true, ...(r.found ?? {}), ...(r.storedBytes !== undefined ? { storedBytes: r.storedBytes } : {}), ...(r.digest ? { sha256: r.digest } : {}), ...hints });
      }
      // Damage of the folder no snapshot above owns (a damaged index file, a pack no snapshot of these needs) fails
      // the verify too, as its own line.
      const unowned = report.problems.filter((p) => !results.some((r) => r.error?.includes(p)));
      if (unowned.length) results.push({ snapshot: `${name} folder`, format: name, legacy: false, ok: false, readData, error: unowned.join("; ") });
    } catch (err) {
      if (err instanceof UsageError && !opts.all) throw err;
      if (err instanceof BusyFailure) throw err; // another process holds the folder (a prune): exit 3, try later
      for (const s of snapshots) results.push({ ...base(s), ok: false, error: (err as Error).message });
    }
  }
  const damaged = opts.all ? catalog.damaged.filter((d) => !d.group || d.group === group.key) : [];
  for (const d of damaged) results.push({ snapshot: d.name, ...(d.id ? { id: d.id, short_id: d.shortId } : {}), format: d.format, legacy: false, ok: false, error: `damaged: ${d.problem}` });
  return results;
}
