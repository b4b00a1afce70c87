// Workspace → remote push for mailbox and mirror. Change-driven: the workspace is scanned (or, in the
// long-running service, only the paths the watcher saw) and compared with the push index; only changed
// files are copied (`rclone copy --files-from`), removed paths go to the trash. A full rclone sync runs
// when the index cannot be trusted (first run, config change, failed run) and every fullSyncInterval,
// which heals any drift (e.g. files changed on the remote by hand).
import { createHash } from "node:crypto";
import { lstat, mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { RcloneError, runRclone } from "../rclone/runner.js";
import { checkDeletions, type RunHint } from "./guard.js";
import { pairStateDir, rcloneCallOptions, type SyncJob, transferFlags, transferStats } from "./job.js";
import { type FileStamp, type LocalScan, scanLocal, scanTree } from "./local-scan.js";
import { oneWaySync, type OneWayResult } from "./one-way.js";
import { diffTree, dropIndex, loadIndex, loadSummary, recordListing, saveIndex, type TreeDiff } from "./push-index.js";
import { makeExcluder } from "../rclone/glob.js";
import { trashStamp } from "./trash.js";

export interface PushOptions {
  filterArgs: string[];
  /** The exclude patterns inside filterArgs, for the local scan. */
  excludePatterns: string[];
  trashRoot?: string;
  dryRun?: boolean;
  /** Force a full rclone sync (e.g. `sync --direction push`). */
  full?: boolean;
  /** Paths a live watcher reported since the last cycle; undefined = unknown, scan everything. */
  changedHint?: Set<string>;
  /** How the user runs this cycle again, for the deletion guard's advice. */
  hint: RunHint;
}

export type PushStrategy = "full" | "incremental" | "idle";

export interface PushResult extends OneWayResult {
  strategy: PushStrategy;
  /** Local files stat'ed for this push (0 when a live journal vouched that nothing changed). */
  scanned: number;
  /**
   * A full compare removed files the product never pushed (not in its index: dropped into the cloud folder by
   * someone): they went to the trash (or would, in a dry run). The cycle says so; nothing else would.
   */
  foreign?: string[];
}

function configHash(job: SyncJob, opts: PushOptions): string {
  return createHash("sha256")
    .update(JSON.stringify([opts.filterArgs, job.remote.path(""), job.localRoot, job.config.copySymlinks, job.config.mode, !!opts.trashRoot]))
    .digest("hex");
}

async function writeList(dir: string, name: string, paths: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, paths.join("\n") + "\n", { mode: 0o600 });
  return file;
}

async function applyDiff(job: SyncJob, opts: PushOptions, diff: TreeDiff, pairDir: string): Promise<OneWayResult> {
  const common = rcloneCallOptions(job);
  const stamp = trashStamp();
  const result: OneWayResult = { copied: [], deleted: [], bytes: 0, dryRun: false, removed: diff.deleted, ...(opts.trashRoot ? { trash: { folder: `${opts.trashRoot}/${stamp}`, stamp } } : {}) };
  if (diff.changed.length) {
    const list = await writeList(pairDir, "push-changed.txt", diff.changed);
    // --files-from-raw admits no other filter: the list, built with the same excludes, is the filter.
    const args = ["copy", job.localRoot, job.remote.path(""), "--files-from-raw", list, "--no-traverse", ...transferFlags(job)];
    if (opts.trashRoot) args.push("--backup-dir", `${opts.trashRoot}/${stamp}`);
    const res = await runRclone(job.bin, {
      args,
      ...common,
      verbose: true,
      onStats: transferStats(job),
      onLog: (e) => {
        if (e.object && /^Copied|^Updated/.test(e.msg)) result.copied.push(e.object);
      },
    });
    if (res.code !== 0) throw new RcloneError("copy", res);
    result.bytes = res.stats?.bytes ?? 0;
  }
  if (diff.deleted.length) {
    const list = await writeList(pairDir, "push-deleted.txt", diff.deleted);
    const base = ["--files-from-raw", list, "--no-traverse"];
    const args = opts.trashRoot
      ? ["move", job.remote.path(""), `${opts.trashRoot}/${stamp}`, ...base]
      : ["delete", job.remote.path(""), ...base];
    const res = await runRclone(job.bin, {
      args,
      ...common,
      verbose: true,
      onLog: (e) => {
        if (e.object && /^Moved|^Deleted/.test(e.msg)) result.deleted.push(e.object);
      },
    });
    if (res.code !== 0) throw new RcloneError(args[0]!, res);
  }
  return result;
}

/** Watcher mode: starts from the index and re-stats only the paths the watcher reported (no full walk). */
async function rescanHinted(job: SyncJob, base: Record<string, FileStamp>, hint: Set<string>, opts: PushOptions): Promise<{ now: Map<string, FileStamp>; stats: number }> {
  const now = new Map(Object.entries(base));
  const excluder = makeExcluder(opts.excludePatterns);
  const follow = job.config.copySymlinks;
  // Paths inside excluded folders (the product's own staging, _inbox, …) need no look.
  const underExcludedDir = (rel: string) => {
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) if (excluder.dir(parts.slice(0, i).join("/"))) return true;
    return false;
  };
  let stats = 0;
  for (const rel of hint) {
    if (underExcludedDir(rel)) continue;
    stats++;
    for (const key of [...now.keys()]) if (key === rel || key.startsWith(`${rel}/`)) now.delete(key);
    const st = await (follow ? stat : lstat)(path.join(job.localRoot, rel)).catch(() => undefined);
    if (!st) continue; // removed
    if (st.isFile()) {
      if (!excluder.file(rel)) now.set(rel, [st.size, st.mtimeMs]);
    } else if (st.isDirectory() && !excluder.dir(rel)) {
      const prefixed = { file: (p: string) => excluder.file(`${rel}/${p}`), dir: (p: string) => excluder.dir(`${rel}/${p}`) };
      for (const [p, stamp] of await scanLocal(path.join(job.localRoot, rel), prefixed, { followSymlinks: follow })) {
        now.set(`${rel}/${p}`, stamp);
        stats++;
      }
    }
  }
  return { now, stats };
}

export async function push(job: SyncJob, opts: PushOptions): Promise<PushResult> {
  const pairDir = pairStateDir(job);
  await mkdir(pairDir, { recursive: true, mode: 0o700 });
  const hash = configHash(job, opts);
  const fullDueAt = (fullSyncAt: string) => job.config.fullSyncInterval === 0 || Date.now() - Date.parse(fullSyncAt) >= job.config.fullSyncInterval * 1000;
  const excluder = makeExcluder(opts.excludePatterns);
  const scan = () => scanTree(job.localRoot, excluder, { followSymlinks: job.config.copySymlinks, patterns: opts.excludePatterns });

  // Idle fast path of a CLI cycle: the listing's digest equals the one the index was built from.
  let early: LocalScan | undefined;
  if (!opts.full && !opts.dryRun && !opts.changedHint) {
    const summary = await loadSummary(pairDir);
    if (summary && summary.configHash === hash && !fullDueAt(summary.fullSyncAt)) {
      early = await scan();
      if (early.digest === summary.listingDigest) return { copied: [], deleted: [], removed: [], bytes: 0, dryRun: false, strategy: "idle", scanned: summary.files };
    }
  }

  const index = await loadIndex(pairDir);
  const fullDue = !index || index.configHash !== hash || fullDueAt(index.fullSyncAt);

  if (opts.full || opts.dryRun || fullDue) {
    // Scan before the transfer: a file changing during the sync then differs from the index next time.
    const before = opts.dryRun ? undefined : (early ?? (await scan()));
    const res = await oneWaySync(job, {
      source: job.localRoot,
      destination: job.remote.path(""),
      destinationSide: "remote",
      filterArgs: opts.filterArgs,
      trashRoot: opts.trashRoot,
      dryRun: opts.dryRun,
      hint: opts.hint,
      // Dropped only once the transfer really starts: a run the guard stops (or a dry run) keeps what was pushed.
      beforeTransfer: () => dropIndex(pairDir),
    });
    if (before) await saveIndex(pairDir, { version: 1, configHash: hash, fullSyncAt: new Date().toISOString(), files: Object.fromEntries(before.files()) }, before.digest);
    const foreign = res.removed.filter((p) => !index?.files[p]);
    return { ...res, strategy: "full", scanned: before?.files().size ?? 0, ...(foreign.length ? { foreign } : {}) };
  }

  let scanned: number;
  let now: Map<string, FileStamp>;
  let digest: string | undefined;
  if (opts.changedHint) {
    ({ now, stats: scanned } = await rescanHinted(job, index.files, opts.changedHint, opts));
  } else {
    const found = early ?? (await scan());
    now = found.files();
    digest = found.digest;
    scanned = now.size;
  }
  const diff = diffTree(index.files, now);
  if (diff.changed.length === 0 && diff.deleted.length === 0) {
    // Same files, another listing (e.g. a folder added and removed): record it so the next idle cycle is fast.
    if (digest) await recordListing(pairDir, index, digest);
    return { copied: [], deleted: [], removed: [], bytes: 0, dryRun: false, strategy: "idle", scanned };
  }
  checkDeletions({ destinationFiles: Object.keys(index.files).length, deletes: diff.deleted }, job.config.maxDelete, "remote", {
    override: job.maxDeleteOverride,
    hint: opts.hint,
  });
  // On failure the old index stays: the next cycle sees the same differences and retries them.
  const res = await applyDiff(job, opts, diff, pairDir);
  await saveIndex(pairDir, { ...index, files: Object.fromEntries(now) }, digest);
  return { ...res, strategy: "incremental", scanned };
}
