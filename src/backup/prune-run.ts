// `backup prune [--dry-run] [--include-legacy]`: under the backup lock, removes leftovers of interrupted runs and
// the snapshots retention no longer keeps (never the newest; legacy snapshots only when asked).
import type { AppContext } from "../app/context.js";
import { acquireLock } from "../state/lock.js";
import { clockFor } from "./clock.js";
import { planLeftovers, planRetention, applyRetentionPlan, removeLeftovers } from "./prune.js";
import { stopOrphanUploads } from "./formats/archive/orphan-uploads.js";
import { listRepository } from "./formats/archive/listing.js";
import { openRepository } from "./setup.js";
import { backupLockFile, readBackupState, updateBackupState } from "./state.js";

export interface PruneReport {
  dryRun: boolean;
  keep: { name: string; reasons: string[] }[];
  remove: string[];
  leftovers: string[];
  /** Leftovers too recent to remove (maybe another host's upload in progress). */
  waiting: string[];
  errors: string[];
}

const GRACE_EXTRA_MS = 10 * 60_000;

export async function pruneRepository(ctx: AppContext, opts: { dryRun?: boolean; includeLegacy?: boolean; now?: () => Date }): Promise<PruneReport> {
  const setup = await openRepository(ctx);
  const lock = await acquireLock(backupLockFile(ctx.stateDir), "backup prune", 2_000);
  try {
    await stopOrphanUploads(setup.remote, ctx.log);
    const state = await readBackupState(ctx.stateDir);
    const listing = await listRepository(setup.access);
    const now = (opts.now ?? clockFor(ctx.env))();
    const leftovers = planLeftovers(listing, state.pending, setup.backup.timeout * 1000 + GRACE_EXTRA_MS, now);
    const retention = planRetention(listing, setup.backup.retain, new Set(), !!opts.includeLegacy);
    const report: PruneReport = {
      dryRun: !!opts.dryRun,
      keep: retention.keep,
      remove: retention.remove,
      leftovers: leftovers.remove.map((l) => l.object),
      waiting: leftovers.wait.map((l) => l.object),
      errors: [],
    };
    if (opts.dryRun) return report;
    report.leftovers = await removeLeftovers(setup.access, leftovers);
    const waiting = new Set(leftovers.wait.map((l) => l.snapshot));
    await updateBackupState(ctx.stateDir, (s) => void (s.pending = s.pending.filter((p) => waiting.has(p))));
    const applied = await applyRetentionPlan(setup.access, retention, ctx.stateDir);
    report.remove = applied.removed;
    report.errors = applied.errors;
    return report;
  } finally {
    await lock.release();
  }
}
