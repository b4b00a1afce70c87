// What the service's schedules actually run: the same engine calls the standalone CLI makes. Engines are imported
// lazily so that loading the plugin (register(), `openclaw --help`) never pays for them.
import type { AppContext } from "../app/context.js";
import type { ChangeJournal } from "../sync/change-journal.js";
import { OperationError } from "../util/errors.js";
import type { TriggerKind } from "./scheduler.js";

export interface SyncOutcome {
  /** Files that arrived in the workspace (mailbox drain into _inbox, or mirror ingest). */
  arrived: string[];
  /** Folder (relative to the sync root) the arrivals landed in. */
  folder: string;
  /** One line for logs and slash-command replies. */
  summary: string;
}

export interface BackupOutcome {
  skipped?: boolean;
  summary: string;
}

export interface JobRunners {
  sync(ctx: AppContext, trigger: TriggerKind, signal: AbortSignal): Promise<SyncOutcome>;
  /** `force`: `backup now` semantics (never skipped as unchanged). */
  backup(ctx: AppContext, trigger: TriggerKind, force: boolean, signal: AbortSignal): Promise<BackupOutcome>;
}

/** How long a service run waits for a CLI/cron run holding the lock before it gives up (BusyError). */
export const SERVICE_LOCK_WAIT_MS = 10_000;

export class BackupUnavailableError extends OperationError {
  constructor(detail: string) {
    super(`the backup engine is not available in this build (${detail})`);
    this.name = "BackupUnavailableError";
  }
}

/**
 * The contract the plugin expects from the backup engine (src/backup/index.ts). Until that module exports
 * `runBackup`, scheduled and /backup-now backups report BackupUnavailableError instead of failing obscurely.
 */
export interface BackupModule {
  runBackup(
    ctx: AppContext,
    opts: { trigger: TriggerKind; force: boolean; signal?: AbortSignal },
  ): Promise<{ skipped?: boolean; snapshot?: string; reason?: string } | undefined>;
}

// A computed specifier keeps TypeScript (and bundlers) from requiring the module at build time.
const BACKUP_MODULE = ["..", "backup", "index.js"].join("/");

async function loadBackupModule(): Promise<BackupModule> {
  let mod: Partial<BackupModule>;
  try {
    mod = (await import(BACKUP_MODULE)) as Partial<BackupModule>;
  } catch (err) {
    throw new BackupUnavailableError((err as Error).message.split("\n")[0] ?? "module not found");
  }
  if (typeof mod.runBackup !== "function") throw new BackupUnavailableError("src/backup/index.ts does not export runBackup");
  return mod as BackupModule;
}

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
    const mod = await loadBackupModule();
    const res = await mod.runBackup(ctx, { trigger, force, signal });
    if (res?.skipped) return { skipped: true, summary: `backup skipped: ${res.reason ?? "nothing changed since the last snapshot"}` };
    return { summary: res?.snapshot ? `backup ${res.snapshot} committed` : "backup done" };
  },
};
