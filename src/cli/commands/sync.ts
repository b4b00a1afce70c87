// `workspace-sync sync`: one cycle of the configured mode, or a one-off direction.
import { buildSyncJob } from "../../app/sync-job.js";
import type { AppContext } from "../../app/context.js";
import { runSyncCycle, type CycleReport } from "../../sync/engine.js";
import { parseMaxDelete } from "../../sync/guard.js";
import { UsageError } from "../../util/errors.js";
import { ttyConfirm } from "../confirm.js";
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
  /** -q (a global flag): no progress lines. */
  quiet?: boolean;
}

const MAX_NAMES = 50;

function names(list: string[]): string {
  const shown = list.slice(0, MAX_NAMES).join(", ");
  return list.length > MAX_NAMES ? `${shown}, … (${list.length - MAX_NAMES} more)` : shown;
}

export function describeCycle(r: CycleReport): string[] {
  const lines: string[] = [];
  const verb = r.dryRun ? "would " : "";
  for (const [label, res] of [["push", r.pushed], ["pull", r.pulled]] as const) {
    if (!res) continue;
    lines.push(`${label}: ${verb}copy ${res.copied.length} file(s), ${verb}delete ${res.deleted.length} file(s)`);
    if (r.dryRun && res.copied.length) lines.push(`  copy: ${names(res.copied)}`);
    if (r.dryRun && res.deleted.length) lines.push(`  delete: ${names(res.deleted)}`);
  }
  if (r.mode === "mailbox" && !r.direction) lines.push(r.arrived.length ? `inbox: ${r.dryRun ? "would receive" : "received"} ${r.arrived.length} file(s): ${names(r.arrived)}` : "inbox: nothing new");
  if (r.mode === "mirror" && r.arrived.length) lines.push(`ingest: ${r.dryRun ? "would take in" : "took in"} ${r.arrived.length} file(s): ${names(r.arrived)}`);
  if (r.resyncPreview) {
    const p = r.resyncPreview;
    lines.push(`resync: ${p.toRemote.length} file(s) to the remote, ${p.toLocal.length} to the workspace, ${p.differ.length} differing (workspace wins)`);
  }
  lines.push(...(r.notices ?? []));
  if (r.cancelled) lines.push("resync cancelled: nothing changed");
  if (r.bisync) {
    lines.push(`bisync: ${r.bisync.resynced ? "baseline established" : r.dryRun ? "dry run done" : "done"}`);
    if (r.bisync.conflicts.length) lines.push(`conflicts (both versions kept): ${names(r.bisync.conflicts)}`);
  }
  lines.push(`${r.dryRun ? "dry run" : "sync"} finished in ${(r.durationMs / 1000).toFixed(1)}s`);
  return lines;
}

export async function syncCommand(ctx: AppContext, flags: SyncFlags): Promise<void> {
  if (flags.direction !== undefined && flags.direction !== "push" && flags.direction !== "pull") {
    throw new UsageError(`--direction must be push or pull (got "${flags.direction}")`);
  }
  if (flags.resync && flags.direction) throw new UsageError("--resync and --direction cannot be combined");
  const maxDelete = flags.maxDelete !== undefined ? parseMaxDelete(flags.maxDelete) : undefined;
  const progress = statsReporter(flags.dryRun ? "checking" : "syncing", { quiet: flags.quiet });
  const job = await buildSyncJob(ctx, { onStats: progress.onStats });
  try {
    const report = await runSyncCycle(job, {
      dryRun: flags.dryRun,
      direction: flags.direction as "push" | "pull" | undefined,
      resync: flags.resync,
      force: flags.force,
      yes: flags.yes,
      ...(maxDelete ? { maxDelete } : {}),
      confirm: ttyConfirm(),
      trigger: "cli",
      lockWaitMs: 2_000,
    });
    progress.done();
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`${describeCycle(report).join("\n")}\n`);
  } catch (err) {
    progress.done();
    throw err;
  }
}
