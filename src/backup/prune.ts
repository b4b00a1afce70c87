// `backup prune [--dry-run] [--include-legacy]` and the retention every backup applies after its commit: within this
// install's group only (never another install's snapshots), never the newest, always the snapshot just committed;
// the older plugin's snapshots only when asked. Leftovers go only when this install can prove they are its own.
import type { RetainPolicy } from "../config/types.js";
import { acquireLock } from "../state/lock.js";
import { type Catalog, inGroup, listCatalog, unmanaged } from "./catalog.js";
import { type Formats, withFormats } from "./formats/index.js";
import type { Leftover, SnapshotSummary } from "./formats/format.js";
import { type Group, installGroup } from "./groups.js";
import type { BackupJob } from "./job.js";
import { type CleanupPlan, forgetFinished, journalFor, LEFTOVER_GRACE_MS, planCleanup } from "./leftovers.js";
import { applyRetention } from "./retention.js";
import { backupLockFile, readBackupState } from "./state.js";

export interface RetentionPlan {
  keep: { snapshot: SnapshotSummary; reasons: string[] }[];
  remove: SnapshotSummary[];
}

/** Retention over `candidates` (newest first); `protect`: IDs always kept (the snapshot just committed). */
export function planRetention(candidates: readonly SnapshotSummary[], retain: number | RetainPolicy, protect: ReadonlySet<string> = new Set()): RetentionPlan {
  const byId = new Map(candidates.map((s) => [s.id, s]));
  // The catalog's order is the commit order (see newestFirst): retention counts in it.
  const result = applyRetention(
    candidates.map((s, i) => ({ name: s.id, time: s.time, order: candidates.length - i })),
    retain,
    protect,
  );
  return { keep: result.keep.map((k) => ({ snapshot: byId.get(k.name)!, reasons: k.reasons })), remove: result.remove.map((id) => byId.get(id)!) };
}

/** The group's snapshots retention looks at (and the older plugin's, when asked), newest first. */
export function retentionCandidates(catalog: Catalog, group: Group, includeLegacy: boolean): SnapshotSummary[] {
  const own = inGroup(catalog, group);
  if (!includeLegacy) return own;
  const legacy = new Set(unmanaged(catalog));
  return catalog.snapshots.filter((s) => own.includes(s) || legacy.has(s));
}

/** Removes what the plan removes, each through its own format; failures are collected, never thrown. */
export async function applyRetentionPlan(job: BackupJob, formats: Formats, plan: RetentionPlan): Promise<{ removed: SnapshotSummary[]; errors: string[] }> {
  const removed: SnapshotSummary[] = [];
  const errors: string[] = [];
  for (const format of formats.all) {
    const mine = plan.remove.filter((s) => s.format === format.name);
    if (!mine.length) continue;
    const r = await format.forget(mine, journalFor(job.stateDir, format.name));
    removed.push(...r.removed);
    errors.push(...r.errors);
  }
  return { removed, errors };
}

/** The leftovers of the catalog this install may remove now, and the journal records that are finished. */
export async function cleanupPlan(job: BackupJob, catalog: Catalog): Promise<CleanupPlan> {
  const state = await readBackupState(job.stateDir);
  return planCleanup(catalog.leftovers, state.pending, job.now(), job.config.timeout * 1000 + LEFTOVER_GRACE_MS);
}

/** Deletes the plan's leftovers (each through its format) and drops journal records nothing is left of. */
export async function removeLeftovers(job: BackupJob, formats: Formats, plan: CleanupPlan): Promise<string[]> {
  const removed: string[] = [];
  for (const format of formats.all) {
    const mine = plan.remove.filter((l: Leftover) => l.format === format.name);
    if (mine.length) removed.push(...(await format.cleanup(mine, { dryRun: false })));
  }
  await forgetFinished(
    job.stateDir,
    formats.all.map((f) => f.name),
    plan.wait,
  );
  return removed;
}

export interface PruneReport {
  dryRun: boolean;
  keep: { name: string; id: string; short_id: string; reasons: string[] }[];
  remove: string[];
  leftovers: string[];
  /** This install's leftovers too recent to remove (its writer may still be running elsewhere). */
  waiting: string[];
  /** Snapshot-like objects no run of this install recorded: left alone. */
  foreign: string[];
  /** Unreferenced data removed by formats whose snapshots share data (none for archive snapshots). */
  data: { format: string; removed: number; freedBytes: number }[];
  errors: string[];
}

export function pruneRepository(job: BackupJob, opts: { dryRun?: boolean; includeLegacy?: boolean } = {}): Promise<PruneReport> {
  return withFormats(job, (formats) => pruneRepositoryWith(job, formats, opts));
}

async function pruneRepositoryWith(job: BackupJob, formats: Formats, opts: { dryRun?: boolean; includeLegacy?: boolean } = {}): Promise<PruneReport> {
  const lock = await acquireLock(backupLockFile(job.stateDir), "backup prune", 2_000);
  try {
    for (const f of formats.all) await f.stopStrayWriters?.();
    const catalog = await listCatalog(formats.all);
    const leftovers = await cleanupPlan(job, catalog);
    const retention = planRetention(retentionCandidates(catalog, installGroup(job), !!opts.includeLegacy), job.config.retain);
    const report: PruneReport = {
      dryRun: !!opts.dryRun,
      keep: retention.keep.map((k) => ({ name: k.snapshot.name, id: k.snapshot.id, short_id: k.snapshot.shortId, reasons: k.reasons })),
      remove: retention.remove.map((s) => s.name),
      leftovers: leftovers.remove.map((l) => l.object),
      waiting: leftovers.wait.map((l) => l.object),
      foreign: leftovers.foreign.map((l) => l.object),
      data: [],
      errors: [],
    };
    if (!opts.dryRun) {
      report.leftovers = await removeLeftovers(job, formats, leftovers);
      const applied = await applyRetentionPlan(job, formats, retention);
      report.remove = applied.removed.map((s) => s.name);
      report.errors = applied.errors;
    }
    for (const f of formats.all) {
      if (!f.prune) continue;
      const r = await f.prune({ dryRun: !!opts.dryRun, ...(job.signal ? { signal: job.signal } : {}) });
      if (r.removed.length) report.data.push({ format: f.name, removed: r.removed.length, freedBytes: r.freedBytes });
    }
    return report;
  } finally {
    await lock.release();
  }
}
