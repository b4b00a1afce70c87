// One backup run under the backup lock (separate from the sync lock): stop what a killed run left running, clean the
// leftovers this install can prove are its own, skip an unchanged scheduled run, resolve the items, hand the live
// entry stream (SQLite captured consistently) to the configured storage format, which commits the snapshot
// atomically, apply retention within this install's group, record the outcome. No format is named here.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";
import { stopOrphans } from "../rclone/orphans.js";
import { acquireLock } from "../state/lock.js";
import { isExpected, OperationError, UsageError } from "../util/errors.js";
import { capturingEntries } from "./capture-entries.js";
import { type Catalog, inGroup, listCatalog } from "./catalog.js";
import { recordChildSync } from "./children.js";
import type { SnapshotDraft } from "./formats/format.js";
import { closeFormats, openFormats } from "./formats/index.js";
import { installGroup } from "./groups.js";
import { resolveItems } from "./items.js";
import type { BackupJob } from "./job.js";
import { journalFor } from "./leftovers.js";
import { createMeter, type ProgressSink } from "./progress.js";
import { type ReadAhead, readAhead, readAheadEntries } from "./read-ahead.js";
import { applyRetentionPlan, cleanupPlan, planRetention, removeLeftovers } from "./prune.js";
import { scanItems, sourceItems, TreeFingerprint } from "./scan.js";
import { walkFolders } from "./tree-walk.js";
import { backupLockFile, type BackupRunRecord, hasCommittedSnapshot, readBackupState, transientRoot, updateBackupState } from "./state.js";

export interface RunBackupOptions {
  trigger: string;
  /** `backup now`: never skipped as unchanged. */
  force: boolean;
  onProgress?: ProgressSink;
  lockWaitMs?: number;
}

/** What one run did (the CLI's `backup now --json`, the plugin's summaries, the persisted status). */
export interface BackupOutcome {
  skipped?: boolean;
  reason?: string;
  /** The committed snapshot's name, full ID and short ID. */
  snapshot?: string;
  id?: string;
  short_id?: string;
  format?: string;
  files?: number;
  bytes?: number;
  storedBytes?: number;
  durationMs: number;
  missing: { item: string; livePath: string }[];
  missingItems: string[];
  /**
   * The missing items the group's previous snapshot found (or all of them for a first snapshot): what people are told
   * about. An item this install never had is reported once, not on every run; --json keeps missingItems whole.
   */
  newlyMissing?: string[];
  pruned: string[];
  cleaned: string[];
  warnings: string[];
}

function settingsKey(job: BackupJob): string {
  const c = job.config;
  const parts = { format: c.format, include: c.include, exclude: c.exclude, compression: c.compression, encrypt: c.encrypt, recipients: c.recipients };
  return createHash("sha256").update(JSON.stringify({ repo: job.remote.path(""), parts })).digest("hex");
}

export async function runBackup(job: BackupJob, opts: RunBackupOptions): Promise<BackupOutcome> {
  const started = job.now();
  const timeout = new AbortController();
  const signal = job.signal ? AbortSignal.any([job.signal, timeout.signal]) : timeout.signal;
  const lock = await acquireLock(backupLockFile(job.stateDir), `backup (${opts.trigger})`, opts.lockWaitMs ?? (opts.trigger === "cli" ? 2_000 : 10_000));
  const childrenFile = `${lock.file}.children`;
  const runJob: BackupJob = { ...job, signal };
  const formats = openFormats(runJob, (pid) => recordChildSync(childrenFile, pid));
  const timer = setTimeout(() => timeout.abort(), job.config.timeout * 1000);
  const runDir = path.join(transientRoot(job.stateDir), `run-${process.pid}-${started.getTime()}`);
  const outcome: BackupOutcome = { durationMs: 0, missing: [], missingItems: [], pruned: [], cleaned: [], warnings: [] };
  const warn = (m: string) => {
    outcome.warnings.push(m);
    job.log.warn(m);
  };
  let error: Error | undefined;
  let ahead: ReadAhead | undefined;
  try {
    // Writers a killed run left running are stopped before the folder is looked at.
    await stopOrphans(childrenFile, job.log);
    for (const f of formats.all) await f.stopStrayWriters?.();
    // We hold the lock: any transient folder left is a killed run's.
    await rm(transientRoot(job.stateDir), { recursive: true, force: true });

    const { sources, missing, secretItems, missingItems } = await resolveItems(job.config.include, job.locations);
    outcome.missing = missing;
    outcome.missingItems = missingItems;
    const workspace = path.resolve(job.locations.workspaceDir);
    if (job.config.include.includes("workspace") && missing.some((m) => m.item === "workspace" && path.resolve(m.livePath) === workspace)) {
      throw new UsageError(
        `the workspace ${workspace} does not exist (backup.include has "workspace"): an unmounted disk or a wrong path? ` +
          'Check --workspace, $OPENCLAW_WORKSPACE_DIR or agents.defaults.workspace, or remove "workspace" from backup.include',
      );
    }
    if (!job.config.encrypt && !job.config.allowPlaintextSecrets && secretItems.length > 0) {
      throw new UsageError(
        `backup.encrypt is off, but ${secretItems.join(", ")} hold credentials or tokens in OpenClaw 2026.9 (the SQLite stores keep auth profiles and OAuth tokens): ` +
          'set "encrypt": true with a "passphrase" or "recipients", or set "allowPlaintextSecrets": true to store them unencrypted on purpose',
      );
    }
    const group = installGroup(job);
    const items = sourceItems(sources, job.config.exclude);
    const settings = settingsKey(job);
    // `backup now` will write: slow key setup (and a repository's transport) starts while rclone lists, and the walk
    // goes ahead meanwhile (listing a repository waits for its key's scrypt, ~0.25 s in which the main thread would
    // sit idle). Before the listing: a format that lists through the transport it writes with then finds it started.
    if (opts.force) formats.writer.prepareWrite?.();
    const listed = listCatalog(formats.all);
    listed.catch(() => {}); // awaited just below
    const fingerprint = new TreeFingerprint();
    const databases: string[] = [];
    const walk = () => capturingEntries(items, { transientDir: runDir, fingerprint, onWarning: warn, onDatabase: (p) => databases.push(p), stats: formats.writer.wantsStats });
    if (opts.force) {
      await mkdir(runDir, { recursive: true, mode: 0o700 });
      // A format that takes unchanged files from a parent (it wants the walk's lstat) after a committed snapshot of this
      // install: most entries pass straight through, so the walk may go far ahead.
      const likelyIncremental = formats.writer.wantsStats === true && (await hasCommittedSnapshot(job.stateDir));
      ahead = readAhead(walk(), readAheadEntries(likelyIncremental));
    }
    let catalog: Catalog = await listed;
    const plan = await cleanupPlan(runJob, catalog);
    outcome.cleaned = await removeLeftovers(runJob, formats, plan);
    if (outcome.cleaned.length) {
      job.log.info(`removed ${outcome.cleaned.length} leftover object(s) of interrupted backups: ${outcome.cleaned.join(", ")}`);
      catalog = await listCatalog(formats.all);
    }
    const ours = inGroup(catalog, group);
    const parent = ours.find((s) => s.format === formats.writer.name);
    const before = ours[0];
    outcome.newlyMissing = before ? missingItems.filter((i) => !before.missingItems.includes(i)) : missingItems;

    // A scheduled run walks the tree first to see whether anything changed; `backup now` goes straight to the
    // stream and takes its progress total from a walk running beside it.
    let estimate: Promise<{ files: number; bytes: number }>;
    if (!opts.force) {
      const pre = await scanItems(items, warn);
      const last = (await readBackupState(job.stateDir)).fingerprint;
      if (last?.settings === settings && last.value === pre.fingerprint && inGroup(catalog, group).some((s) => s.name === last.snapshot)) {
        outcome.skipped = true;
        outcome.reason = `nothing changed since snapshot ${last.snapshot}`;
        return outcome;
      }
      estimate = Promise.resolve(pre);
    } else if (opts.onProgress || job.remote.backendType === "s3") {
      estimate = scanItems(items);
      estimate.catch(() => {}); // only an estimate for the ETA (and the S3 part size)
    } else {
      estimate = Promise.resolve({ files: 0, bytes: 0 }); // nobody watches the progress: no second walk
    }
    signal.throwIfAborted();
    await mkdir(runDir, { recursive: true, mode: 0o700 });

    const meter = createMeter("backup", 0, 0, opts.onProgress);
    void estimate.then((t) => meter.setTotal(t.bytes, t.files), () => {});
    const draft: SnapshotDraft = {
      time: started,
      host: job.host,
      agent: job.agent,
      paths: group.paths,
      roots: { workspace: path.resolve(job.locations.workspaceDir), state: path.resolve(job.stateDir) },
      items: sources.map((s) => ({ item: s.item, path: s.archivePath, livePath: s.livePath, type: s.type })),
      missingItems,
      missing,
      entries: ahead?.entries ?? walk(),
      folders: () => walkFolders(items),
      estimate,
      sealed: () => ({ fingerprint: fingerprint.digest(), databases, warnings: outcome.warnings }),
      onProgress: (bytes, files) => meter.update(bytes, files),
      warn,
      journal: journalFor(job.stateDir, formats.writer.name),
      ...(parent ? { parent } : {}),
      signal,
    };
    const committed = await formats.writer.write(draft);
    meter.finish();
    const snap = committed.snapshot;
    Object.assign(outcome, { snapshot: snap.name, id: snap.id, short_id: snap.shortId, format: snap.format, files: committed.files, bytes: committed.bytes, storedBytes: committed.storedBytes });
    await updateBackupState(job.stateDir, (s) => {
      s.fingerprint = { settings, value: snap.fingerprint ?? "", snapshot: snap.name };
    });

    // Retention only after a committed snapshot, within this install's group; the new one is protected whatever
    // the clocks say.
    const candidates = [snap, ...inGroup(catalog, group).filter((s) => s.id !== snap.id)];
    const applied = await applyRetentionPlan(runJob, formats, planRetention(candidates, job.config.retain, new Set([snap.id])));
    outcome.pruned = applied.removed.map((s) => s.name);
    applied.errors.forEach(warn);
  } catch (err) {
    error = explain(err, timeout.signal.aborted, job.config.timeout, outcome.snapshot);
  } finally {
    clearTimeout(timer);
    await ahead?.cancel().catch(() => {});
    await closeFormats(formats);
    await rm(runDir, { recursive: true, force: true }).catch(() => {});
    outcome.durationMs = job.now().getTime() - started.getTime();
    try {
      await record(job.stateDir, opts.trigger, started, job.now(), outcome, error);
    } finally {
      await lock.release();
    }
  }
  if (error) throw error;
  return outcome;
}

function explain(err: unknown, timedOut: boolean, timeoutSeconds: number, committed: string | undefined): Error {
  const tail = committed ? `snapshot ${committed} was committed, but then` : "no snapshot was committed";
  if (timedOut) return new OperationError(`backup timed out after ${timeoutSeconds}s (backup.timeout) and was stopped; ${tail}`);
  // usage (2) and busy (3) already say all; a failure (1, e.g. an rclone error) gets what it means for the snapshot
  if (isExpected(err) && err.exitCode !== 1) return err;
  return new OperationError(`backup failed (${tail}): ${(err as Error).message}`, { cause: err });
}

async function record(stateDir: string, trigger: string, started: Date, finished: Date, o: BackupOutcome, error: Error | undefined): Promise<void> {
  const run: BackupRunRecord = {
    trigger,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: o.durationMs,
    ok: !error,
    ...(o.skipped ? { skipped: true, reason: o.reason } : {}),
    ...(error ? { error: error.message } : {}),
    ...(o.snapshot ? { snapshot: o.snapshot, ...(o.short_id ? { shortId: o.short_id } : {}), files: o.files, bytes: o.bytes, storedBytes: o.storedBytes } : {}),
    pruned: o.pruned,
    cleaned: o.cleaned,
    warnings: o.warnings.slice(0, 20),
  };
  await updateBackupState(stateDir, (s) => {
    s.lastRun = run;
    if (error) s.errors.push({ at: run.finishedAt, message: error.message });
    else if (o.skipped) {
      s.lastSkipped = { at: run.finishedAt, reason: o.reason ?? "unchanged", trigger };
      s.skippedCount = (s.skippedCount ?? 0) + 1;
    } else s.lastSuccess = run;
  });
}
