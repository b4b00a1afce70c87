// One backup run under the backup lock (separate from the sync lock): clean what killed runs left, skip an
// unchanged scheduled run, capture live SQLite, stream walk → tar → compress → encrypt → rclone rcat, check the
// stored size, write the manifest last (only then does the snapshot exist), apply retention, record the outcome.
import { createHash } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import type { AppContext } from "../app/context.js";
import { acquireLock } from "../state/lock.js";
import { stopOrphans } from "../rclone/orphans.js";
import { isExpected, OperationError, UsageError } from "../util/errors.js";
import { createTarPackStream, TAR_BATCH, type WalkEntry } from "./archive/index.js";
import { BufferPool } from "./buffer-pool.js";
import { capturingEntries } from "./capture-entries.js";
import { clockFor } from "./clock.js";
import { recordChildSync, stopOrphanUploads } from "./orphan-uploads.js";
import { createCompressor, createRechunker, effectiveCompression } from "./codec.js";
import { resolveItems } from "./items.js";
import { encryptionFor } from "./keys.js";
import { type Manifest, MANIFEST_FORMAT, MANIFEST_VERSION, product, serializeManifest } from "./manifest.js";
import { manifestNameFor, newSnapshotName } from "./naming.js";
import { createMeter, type ProgressSink } from "./progress.js";
import { applyRetentionPlan, planLeftovers, planRetention, removeLeftovers } from "./prune.js";
import { listRepository, nextSequence, type RepoListing, statObject } from "./repository.js";
import { scanItems, sourceItems, TreeFingerprint } from "./scan.js";
import { openRepository } from "./setup.js";
import { backupLockFile, type BackupRunRecord, type BackupState, readBackupState, transientRoot, updateBackupState } from "./state.js";
import { uploadObject } from "./transfer.js";

export interface RunBackupOptions {
  trigger: string;
  /** `backup now`: never skipped as unchanged. */
  force: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  /** Agent id recorded in the manifest. */
  agent?: string;
  lockWaitMs?: number;
  now?: () => Date;
}

export interface BackupOutcome {
  skipped?: boolean;
  reason?: string;
  snapshot?: string;
  files?: number;
  bytes?: number;
  storedBytes?: number;
  durationMs: number;
  missing: { item: string; livePath: string }[];
  missingItems: string[];
  pruned: string[];
  cleaned: string[];
  warnings: string[];
}

const MAX_MANIFEST_WARNINGS = 50;
/** Others' uploads in progress look like leftovers: they are only removed once older than this (plus the timeout). */
const LEFTOVER_GRACE_MS = 10 * 60_000;

function settingsKey(repo: string, parts: unknown): string {
  return createHash("sha256").update(JSON.stringify({ repo, parts })).digest("hex");
}

async function* counting(entries: AsyncIterable<WalkEntry>, counts: { files: number; dirs: number; symlinks: number }): AsyncGenerator<WalkEntry> {
  for await (const e of entries) {
    if (e.type === "file") counts.files++;
    else if (e.type === "dir") counts.dirs++;
    else if (e.type === "symlink") counts.symlinks++;
    yield e;
  }
}

export async function runBackup(ctx: AppContext, opts: RunBackupOptions): Promise<BackupOutcome> {
  const now = opts.now ?? clockFor(ctx.env);
  const started = now();
  const timeout = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
  const setup = await openRepository(ctx, signal);
  const { backup, access } = setup;
  const lock = await acquireLock(backupLockFile(ctx.stateDir), `backup (${opts.trigger})`, opts.lockWaitMs ?? (opts.trigger === "cli" ? 2_000 : 10_000));
  const timer = setTimeout(() => timeout.abort(), backup.timeout * 1000);
  const childrenFile = `${lock.file}.children`;
  const runDir = path.join(transientRoot(ctx.stateDir), `run-${process.pid}-${started.getTime()}`);
  const outcome: BackupOutcome = { durationMs: 0, missing: [], missingItems: [], pruned: [], cleaned: [], warnings: [] };
  const warn = (m: string) => {
    outcome.warnings.push(m);
    ctx.log.warn(m);
  };
  const onSpawn = (pid: number) => recordChildSync(childrenFile, pid);
  let error: Error | undefined;
  try {
    // Uploads a killed run left running are stopped before the repository is looked at.
    await stopOrphans(childrenFile, ctx.log);
    await stopOrphanUploads(access.remote, ctx.log);
    // We hold the lock: any transient folder left is a killed run's.
    await rm(transientRoot(ctx.stateDir), { recursive: true, force: true });

    const layout = { stateDir: ctx.stateDir, workspaceDir: ctx.workspaceDir, configFile: ctx.configFile, env: ctx.env };
    const { sources, missing, secretItems, missingItems } = await resolveItems(backup.include, layout);
    outcome.missing = missing;
    outcome.missingItems = missingItems;
    if (!backup.encrypt && !backup.allowPlaintextSecrets && secretItems.length > 0) {
      throw new UsageError(
        `backup.encrypt is off, but ${secretItems.join(", ")} hold credentials or tokens in OpenClaw 2026.9 (the SQLite stores keep auth profiles and OAuth tokens): ` +
          'set "encrypt": true with a "passphrase" or "recipients", or set "allowPlaintextSecrets": true to store them unencrypted on purpose',
      );
    }
    const encryption = encryptionFor(backup);
    const compression = effectiveCompression(backup.compression);
    if (compression !== backup.compression) warn(`zstd is not available in this Node.js: using gzip`);

    const items = sourceItems(sources, backup.exclude);
    const settings = settingsKey(access.remote.path(""), { include: backup.include, exclude: backup.exclude, compression, enc: encryption.info });
    const state = await readBackupState(ctx.stateDir);
    const listed = listRepository(access);
    listed.catch(() => {}); // awaited just below
    // `backup now` will upload: the age header's key derivation (scrypt, ~0.3 s of CPU) runs while rclone lists.
    const early = opts.force ? encryption.create() : undefined;
    let listing = await listed;
    outcome.cleaned = await cleanUp(ctx, access, listing, state, backup.timeout, now());
    if (outcome.cleaned.length) listing = await listRepository(access);

    // A scheduled run walks the tree first to see whether anything changed; `backup now` goes straight to the
    // stream and takes its progress total from a walk running beside it.
    let totals: Promise<{ files: number; bytes: number }>;
    if (!opts.force) {
      const pre = await scanItems(items, warn);
      const last = state.fingerprint;
      if (last?.settings === settings && last.value === pre.fingerprint && listing.snapshots.some((s) => s.name === last.snapshot)) {
        outcome.skipped = true;
        outcome.reason = `nothing changed since snapshot ${last.snapshot}`;
        return outcome;
      }
      totals = Promise.resolve(pre);
    } else if (opts.onProgress || access.remote.backendType === "s3") {
      totals = scanItems(items);
      totals.catch(() => {}); // only an estimate for the ETA (and the S3 part size)
    } else {
      totals = Promise.resolve({ files: 0, bytes: 0 }); // nobody watches the progress: no second walk
    }
    signal.throwIfAborted();

    const name = newSnapshotName(started, compression, backup.encrypt, listing.names);
    const sequence = nextSequence(listing);
    await updateBackupState(ctx.stateDir, (s) => void s.pending.push(name));
    await mkdir(runDir, { recursive: true, mode: 0o700 });

    const meter = createMeter("backup", 0, 0, opts.onProgress);
    void totals.then((t) => meter.setTotal(t.bytes, t.files), () => {});
    const fingerprint = new TreeFingerprint();
    const databases: string[] = [];
    const counts = { files: 0, dirs: 0, symlinks: 0 };
    let skipped = 0;
    let bytes = 0;
    const entries = capturingEntries(items, { transientDir: runDir, fingerprint, onWarning: warn, onDatabase: (p) => databases.push(p) });
    // The tar writer's 1 MiB batches are the zstd stage's blocks: compressed, they come back to be filled again.
    const pool = compression === "zstd" ? new BufferPool(TAR_BATCH) : undefined;
    const tar = createTarPackStream(counting(entries, counts), {
      pool,
      onProgress: (p) => {
        bytes = p.bytes;
        meter.update(p.bytes, p.files);
      },
      onWarning: (m) => {
        // The packer skips a file that vanished (or cannot be opened) before its header was written.
        if (m.startsWith("skipped ")) skipped++;
        warn(m);
      },
    });
    // S3 part sizes must fit the whole stream: there, wait for the walk (other backends need no size).
    const expected = access.remote.backendType === "s3" ? await totals : undefined;
    // zstd cuts its own blocks; the other stages get ~1 MiB pieces instead of the tar stream's small ones.
    const stages = [tar, compression === "zstd" ? undefined : createRechunker(), createCompressor(compression, { pool }), early ?? encryption.create()].filter((s) => s !== undefined);
    const stored = await uploadObject({ ...access, name, env: access.env, stages, expectedBytes: expected ? expected.bytes + expected.files * 1536 : 0, signal, onSpawn });
    meter.finish();
    const files = counts.files - skipped;
    const fingerprintValue = fingerprint.digest();
    const size = await statObject(access, name);
    if (size !== stored.size) throw new Error(`the repository holds ${size ?? "no"} bytes of ${name} after the upload, ${stored.size} were sent`);

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      snapshot: name,
      created: started.toISOString(),
      finished: now().toISOString(),
      host: os.hostname(),
      agent: opts.agent ?? "default",
      product: product(),
      roots: { workspace: path.resolve(ctx.workspaceDir), state: path.resolve(ctx.stateDir) },
      items: sources.map((s) => ({ item: s.item, archivePath: s.archivePath, livePath: s.livePath, type: s.type })),
      missingItems,
      missing,
      databases,
      files,
      dirs: counts.dirs,
      symlinks: counts.symlinks,
      bytes,
      stored,
      compression,
      encryption: encryption.info,
      sequence,
      fingerprint: fingerprintValue,
      warnings: outcome.warnings.slice(0, MAX_MANIFEST_WARNINGS),
    };
    await uploadObject({ ...access, name: manifestNameFor(name), stages: [Readable.from([Buffer.from(serializeManifest(manifest))])], expectedBytes: 0, signal, onSpawn });
    Object.assign(outcome, { snapshot: name, files, bytes, storedBytes: stored.size });
    await updateBackupState(ctx.stateDir, (s) => {
      s.pending = s.pending.filter((p) => p !== name);
      s.fingerprint = { settings, value: fingerprintValue, snapshot: name };
    });

    // Retention only after a committed snapshot; the new one is protected whatever the clocks say.
    const committed: RepoListing = { ...listing, snapshots: [{ name, manifest, created: started, sequence, size: stored.size }, ...listing.snapshots] };
    const retention = planRetention(committed, backup.retain, new Set([name]));
    const applied = await applyRetentionPlan(access, retention, ctx.stateDir);
    outcome.pruned = applied.removed;
    applied.errors.forEach(warn);
  } catch (err) {
    error = explain(err, timeout.signal.aborted, backup.timeout, outcome.snapshot);
  } finally {
    clearTimeout(timer);
    await rm(runDir, { recursive: true, force: true }).catch(() => {});
    outcome.durationMs = now().getTime() - started.getTime();
    try {
      await record(ctx.stateDir, opts.trigger, started, now(), outcome, error);
    } finally {
      await lock.release();
    }
  }
  if (error) throw error;
  return outcome;
}

async function cleanUp(ctx: AppContext, access: Parameters<typeof removeLeftovers>[0], listing: RepoListing, state: BackupState, timeoutSeconds: number, now: Date): Promise<string[]> {
  const plan = planLeftovers(listing, state.pending, timeoutSeconds * 1000 + LEFTOVER_GRACE_MS, now);
  let removed: string[] = [];
  if (plan.remove.length) {
    removed = await removeLeftovers(access, plan);
    ctx.log.info(`removed ${removed.length} leftover object(s) of interrupted backups: ${removed.join(", ")}`);
  }
  // Pending names that are gone or committed need no more attention.
  const stillLeft = new Set(plan.wait.map((l) => l.snapshot));
  await updateBackupState(ctx.stateDir, (s) => {
    s.pending = s.pending.filter((p) => stillLeft.has(p));
  });
  return removed;
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
    ...(o.snapshot ? { snapshot: o.snapshot, files: o.files, bytes: o.bytes, storedBytes: o.storedBytes } : {}),
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
