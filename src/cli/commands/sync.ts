// `workspace-sync sync`: one cycle of the configured mode, or a one-off direction.
import { buildSyncJob } from "../../app/sync-job.js";
import { describeCycle } from "../../report/sync.js";
import { runSyncCycle } from "../../sync/engine.js";
import { parseMaxDelete } from "../../sync/guard.js";
import { FlagError } from "../../util/errors.js";
import { ttyConfirm } from "../confirm.js";
import type { Invocation } from "../invocation.js";
import { statsReporter } from "../progress.js";

export interface SyncFlags {
  dryRun?: boolean;
  direction?: string;
  resync?: boolean;
  force?: boolean;
  yes?: boolean;
  /** --max-delete N or N%: this run's deletion limit. */
  maxDelete?: string;
  json?: boolean;
}

export async function run(inv: Invocation): Promise<void> {
  const flags = inv.opts as SyncFlags;
  if (flags.direction !== undefined && flags.direction !== "push" && flags.direction !== "pull") {
    throw new FlagError(`--direction must be push or pull (got "${flags.direction}")`);
  }
  if (flags.resync && flags.direction) throw new FlagError("--resync and --direction cannot be combined");
  let maxDelete;
  try {
    maxDelete = flags.maxDelete !== undefined ? parseMaxDelete(flags.maxDelete) : undefined;
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
  const ctx = await inv.context();
  const progress = statsReporter(flags.dryRun ? "checking" : "syncing", { quiet: inv.out.quiet });
  const job = await buildSyncJob(ctx, { onStats: progress.onStats });
  try {
    const report = await runSyncCycle(job, {
      dryRun: flags.dryRun,
      direction: flags.direction as "push" | "pull" | undefined,
      resync: flags.resync,
      force: flags.force,
      yes: flags.yes,
      confirm: ttyConfirm(),
      trigger: "cli",
      lockWaitMs: 2_000,
      ...(maxDelete ? { maxDelete } : {}),
    });
    progress.done();
    inv.out.result(describeCycle(report), report);
  } catch (err) {
    progress.done();
    throw err;
  }
}
