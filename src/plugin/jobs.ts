// What the service's schedules actually run: the same engine calls the standalone CLI makes. Engines are imported
// lazily so that loading the plugin (register(), `openclaw --help`) never pays for them.
import type { AppContext } from "../app/context.js";
import type { BackupOutcome } from "../backup/index.js";
import type { ChangeJournal } from "../sync/change-journal.js";
import type { TriggerKind } from "./scheduler.js";

export interface SyncOutcome {
  /** Files that arrived in the workspace (mailbox drain into _inbox, or mirror ingest). */
  arrived: string[];
  /** Folder (relative to the sync root) the arrivals landed in. */
  folder: string;
  /** One line for logs and slash-command replies. */
  summary: string;
}

export interface JobRunners {
  sync(ctx: AppContext, trigger: TriggerKind, signal: AbortSignal): Promise<SyncOutcome>;
  /** `force`: `backup now` semantics (never skipped as unchanged). One line for logs and replies (the engine's
   * BackupOutcome, summarised). */
  backup(ctx: AppContext, trigger: TriggerKind, force: boolean, signal: AbortSignal): Promise<{ skipped?: boolean; summary: string }>;
}

/** How long a service run waits for a CLI/cron run holding the lock before it gives up (BusyError). */
export const SERVICE_LOCK_WAIT_MS = 10_000;

// One live change journal per local sync root while the service runs: an idle cycle then needs no scan.
const journals = new Map<string, ChangeJournal>();

export function stopJournals(): void {
  for (const j of journals.values()) j.stop();
  journals.clear();
}

export const defaultRunners: JobRunners = {
  async sync(ctx, trigger, signal) {
    const [{ buildSyncJob }, { runSyncCycle }, { describeCycle }, { ChangeJournal }] = await Promise.all([
      import("../app/sync-job.js"),
      import("../sync/engine.js"),
      import("../report/sync.js"),
      import("../sync/change-journal.js"),
    ]);
    const job = await buildSyncJob(ctx, { signal });
    let journal = journals.get(job.localRoot);
    if (!journal) {
      journal = new ChangeJournal(job.localRoot);
      journal.start();
      journals.set(job.localRoot, journal);
    }
    const report = await runSyncCycle(job, { trigger, lockWaitMs: SERVICE_LOCK_WAIT_MS, journal });
    const sync = ctx.config.sync;
    const folder = sync?.mode === "mirror" ? sync.ingestPath : "_inbox";
    return { arrived: report.arrived, folder, summary: describeCycle(report).join("; ") };
  },
  async backup(ctx, trigger, force, signal) {
    const [{ buildBackupJob }, { runBackup }, { snapshotLabel }] = await Promise.all([
      import("../app/backup-job.js"),
      import("../backup/index.js"),
      import("../report/format.js"),
    ]);
    const outcome: BackupOutcome = await runBackup(await buildBackupJob(ctx, { signal, write: true }), { trigger, force, lockWaitMs: SERVICE_LOCK_WAIT_MS });
    if (outcome.skipped) return { skipped: true, summary: `backup skipped: ${outcome.reason ?? "nothing changed since the last snapshot"}` };
    return { summary: outcome.snapshot ? `backup ${snapshotLabel(outcome.snapshot, outcome.short_id, (id) => `(${id})`)} committed` : "backup done" };
  },
};
