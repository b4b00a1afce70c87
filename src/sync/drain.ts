// Mailbox drain: every file of <remote>/_outbox moves into the workspace _inbox, sub-folders kept,
// never overwriting (a clash gets a unique name), and a file leaves the cloud only after it landed whole.
//
// Steps: (1) finish files a previous, interrupted drain left in staging; (2) `rclone move` the outbox
// into a private staging folder (rclone deletes each source only after a verified copy); (3) place each
// staged file into _inbox with placeNoClobber.
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { RcloneError, runRclone } from "../rclone/runner.js";
import type { SyncJob } from "./job.js";
import { listingFlags, transferFlags } from "./job.js";
import { type ListedFile, listFiles } from "./listing.js";
import { INBOX, LOCAL_PRODUCT_DIR, OUTBOX } from "./filters.js";
import { placeNoClobber, pruneEmptyDirs, walkFiles } from "./place.js";

export interface DrainResult {
  arrived: string[];
  dryRun: boolean;
}

export function stagingDir(job: SyncJob): string {
  return path.join(job.localRoot, LOCAL_PRODUCT_DIR, "incoming");
}

/**
 * Files left in staging by a killed run. A staged file whose source is gone from the outbox was moved
 * completely (rclone deletes the source only after a verified copy). One whose source is still there
 * with the same size is a complete copy too (placing it may yield a duplicate, never a loss); a size
 * mismatch means a partial copy, which is dropped and fetched again.
 */
async function recoverStaged(job: SyncJob, staging: string, outbox: Map<string, ListedFile>): Promise<string[]> {
  const placed: string[] = [];
  for (const rel of await walkFiles(staging)) {
    const full = path.join(staging, rel);
    const remote = outbox.get(rel.split(path.sep).join("/"));
    if (remote && remote.size !== (await stat(full)).size) {
      await rm(full, { force: true });
      continue;
    }
    const landed = await placeNoClobber(full, path.join(job.localRoot, INBOX, rel));
    placed.push(path.relative(path.join(job.localRoot, INBOX), landed));
  }
  await pruneEmptyDirs(staging);
  return placed;
}

/** The one listing of the outbox a cycle makes (started early so it overlaps the push's local scan). */
export function listOutbox(job: SyncJob): Promise<Map<string, ListedFile>> {
  return listFiles(job.bin, job.remote.path(OUTBOX), {
    configPath: job.remote.configPath,
    env: job.env,
    signal: job.signal,
    timeoutMs: job.config.timeout * 1000,
    extraArgs: listingFlags(job),
  });
}

export async function drainOutbox(job: SyncJob, opts: { dryRun?: boolean; listing?: Promise<Map<string, ListedFile>> } = {}): Promise<DrainResult> {
  const outboxPath = job.remote.path(OUTBOX);
  const staging = stagingDir(job);
  const common = { configPath: job.remote.configPath, env: job.env, signal: job.signal, timeoutMs: job.config.timeout * 1000 };
  const flags = transferFlags(job).filter((f) => f !== "--checksum");
  const listFlags = listingFlags(job);
  // One listing of the outbox per cycle; nothing else when it is empty.
  const outbox = await (opts.listing ?? listOutbox(job));
  if (opts.dryRun) return { arrived: [...outbox.keys()].sort(), dryRun: true };

  await mkdir(staging, { recursive: true });
  const arrived = await recoverStaged(job, staging, outbox);
  if (outbox.size === 0) return { arrived, dryRun: false };

  const moved: string[] = [];
  const res = await runRclone(job.bin, {
    args: ["move", outboxPath, staging, ...flags, "--delete-empty-src-dirs"],
    ...common,
    verbose: true,
    onStats: job.onStats,
    onLog: (entry) => {
      if (entry.object && /^Copied|^Moved/.test(entry.msg)) moved.push(entry.object);
    },
  });
  // Place whatever arrived, even if rclone failed part-way: those sources are already gone.
  const staged = await recoverStaged(job, staging, res.code === 0 ? new Map() : await listFiles(job.bin, outboxPath, { ...common, extraArgs: listFlags }).catch(() => outbox));
  arrived.push(...staged);
  // rclone may remove an emptied _outbox itself; recreate it so the user's desktop app keeps the folder.
  await runRclone(job.bin, { args: ["mkdir", outboxPath], ...common });
  if (res.code !== 0) throw new RcloneError("move", res);
  return { arrived, dryRun: false };
}
