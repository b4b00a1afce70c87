// `backup verify`: reads a snapshot back end to end through its format — authentication, hashes, decompression,
// every entry to the end — without writing a file, and reports what it holds. `--all`: every snapshot of this
// install's group and the older plugin's (another install's snapshots may need keys this one does not hold).
import { UsageError } from "../util/errors.js";
import { type Catalog, inGroup, listCatalog, resolveSnapshot, unmanaged } from "./catalog.js";
import type { SnapshotSummary } from "./formats/format.js";
import { openFormats } from "./formats/index.js";
import { type Group, installGroup } from "./groups.js";
import type { BackupJob } from "./job.js";
import { unlockFor } from "./keys.js";
import { createMeter, type ProgressSink } from "./progress.js";

export interface VerifyOptions {
  snapshot?: string;
  all?: boolean;
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
}

export function pickSnapshots(catalog: Catalog, wanted: string | undefined, all: boolean, group: Group): SnapshotSummary[] {
  if (all) return [...inGroup(catalog, group), ...unmanaged(catalog)];
  return [resolveSnapshot(catalog, wanted, group)];
}

export async function verifySnapshots(job: BackupJob, opts: VerifyOptions): Promise<VerifyResult[]> {
  const formats = openFormats(job);
  const catalog = await listCatalog(formats.all);
  const group = installGroup(job);
  const targets = pickSnapshots(catalog, opts.snapshot, !!opts.all, group);
  const keys = await unlockFor(job.config, opts.identity);
  const results: VerifyResult[] = [];
  for (const s of targets) {
    const base = { snapshot: s.name, id: s.id, short_id: s.shortId, format: s.format, legacy: !s.managed };
    const meter = createMeter("verify", s.storedBytes ?? 0, s.files ?? 0, opts.onProgress);
    let files = 0;
    let bytesRead = 0;
    try {
      const report = await formats.byName(s.format).check({
        snapshots: [s],
        readData: true,
        keys,
        signal: job.signal,
        onBytes: (read, total) => {
          meter.setTotal(total, s.files ?? 0);
          meter.update((bytesRead = read), files);
        },
        onEntry: (e) => {
          if (e.type === "file") meter.update(bytesRead, ++files);
        },
      });
      meter.finish();
      const r = report.results[0]!;
      if (!r.ok) results.push({ ...base, ok: false, error: r.error ?? report.problems.join("; ") });
      else results.push({ ...base, ok: true, ...(r.found ?? {}), ...(r.storedBytes !== undefined ? { storedBytes: r.storedBytes } : {}), ...(r.digest ? { sha256: r.digest } : {}) });
    } catch (err) {
      if (err instanceof UsageError && !opts.all) throw err;
      results.push({ ...base, ok: false, error: (err as Error).message });
    }
  }
  const damaged = opts.all ? catalog.damaged.filter((d) => !d.group || d.group === group.key) : [];
  for (const d of damaged) results.push({ snapshot: d.name, ...(d.id ? { id: d.id, short_id: d.shortId } : {}), format: d.format, legacy: false, ok: false, error: `damaged: ${d.problem}` });
  return results;
}
