// Two-way sync with rclone bisync. State (prior listings) lives in the product's state dir per pair,
// never in a cache dir. --resync is never automatic: it needs an explicit request and confirmation.
import { access, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { flagSupported } from "../rclone/version.js";
import { RcloneError, runRclone } from "../rclone/runner.js";
import os from "node:os";
import { ownerAlive, processStartTime, type LockInfo } from "../state/lock.js";
import { readJson, writeJson } from "../state/state-store.js";
import { OperationError } from "../util/errors.js";
import type { SyncJob } from "./job.js";
import { pairStateDir, rcloneCallOptions, transferStats } from "./job.js";
import { listFiles } from "../rclone/listing.js";
import { anchored, LOCAL_PRODUCT_DIR, modeExcludedFolders, REMOTE_TRASH_DIR, userExcludes } from "./filters.js";
import { walkFiles } from "./place.js";
import { healInterruptedBisync, priorListing } from "./bisync-heal.js";
import { describeStoppedDeletions, guardStops } from "./guard.js";
import { trashStamp } from "./trash.js";
import type { RcloneBinary } from "../rclone/binary.js";

export class ResyncRequiredError extends OperationError {
  constructor(reason: string) {
    super(
      `bisync needs a baseline: ${reason}. Check both sides, then run \`workspace-sync sync --resync\` ` +
        "(it shows what it would copy each way and asks before doing it). The product never resyncs on its own.",
    );
    this.name = "ResyncRequiredError";
  }
}

export interface ResyncPreview {
  toRemote: string[];
  toLocal: string[];
  /**
   * Present on both sides with different contents: the workspace (Path1) version wins a resync, and the remote one
   * is kept in the trash first. Compared by hash where both sides have one in common, else by size and time.
   */
  differ: string[];
  /** Contents compared by hash; false when the remote has no hash in common with the workspace. */
  hashed: boolean;
}

export interface BisyncResult {
  conflicts: string[];
  resynced: boolean;
  dryRun: boolean;
  /** Dry run: what bisync would delete on each side (rclone's plan). */
  deletes?: { remote: string[]; workspace: string[] };
  /** Dry run: the deletion guard (rclone's --max-delete per side) would stop the real run; the preview lines. */
  guardPreview?: string[];
  /** Resync: where the remote versions it replaced were kept. */
  keptIn?: string;
}

function workdir(job: SyncJob): string {
  return path.join(pairStateDir(job), "bisync");
}

/** The patterns bisync must not touch, as an rclone filters file. */
export function bisyncFilters(job: SyncJob): string {
  const lines = modeExcludedFolders("bisync", false, "").map((f) => `- ${anchored(f)}`);
  for (const p of job.protectedPatterns) lines.push(`- ${p}`);
  for (const p of userExcludes(job.config)) lines.push(`- ${p}`);
  return lines.join("\n") + "\n";
}

async function hasPriorListings(dir: string): Promise<boolean> {
  try {
    const names = await readdir(dir);
    return names.some((n) => n.endsWith(".path1.lst")) && names.some((n) => n.endsWith(".path2.lst"));
  } catch {
    return false;
  }
}

/**
 * rclone's own bisync lock (.lck in the workdir) is cleared only when the rclone that held it is gone:
 * each run records its rclone child (pid + start time) in the workdir.
 */
async function clearStaleBisyncLocks(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const locks = names.filter((n) => n.endsWith(".lck"));
  if (locks.length === 0) return;
  const owner = await readJson<Partial<LockInfo>>(path.join(dir, "rclone-owner.json"), {});
  for (const name of locks) {
    const file = path.join(dir, name);
    // rclone writes its pid into the lock; the recorded start time tells a reused pid from the owner.
    const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
    const startTime = owner.pid === pid ? owner.startTime : undefined;
    if (pid > 0 && ownerAlive({ pid, host: os.hostname(), startTime, purpose: "bisync", since: "", nonce: "" })) {
      throw new OperationError(`a previous rclone bisync (pid ${pid}) is still running for this pair; wait for it to finish or stop it`);
    }
    await rm(file, { force: true });
  }
}

async function writeFilters(job: SyncJob): Promise<string> {
  const filtersFile = path.join(workdir(job), "filters.txt");
  await mkdir(workdir(job), { recursive: true, mode: 0o700 });
  await writeFile(filtersFile, bisyncFilters(job), { mode: 0o600 });
  return filtersFile;
}

/**
 * What a resync would do, from `rclone check` (sizes and, where both sides have one, hashes: a file of the same size
 * and time but other bytes is not "unchanged"). Without a common hash, equal sizes with different times count as
 * different too: the resync copies those over.
 */
export async function previewResync(job: SyncJob): Promise<ResyncPreview> {
  const filtersFile = await writeFilters(job);
  const combined = path.join(workdir(job), "resync-check.txt");
  await rm(combined, { force: true });
  let hashed = true;
  const res = await runRclone(job.bin, {
    args: ["check", job.localRoot, job.remote.path(""), "--combined", combined, "--filter-from", filtersFile, ...(job.remote.isBucketStore ? ["--fast-list"] : [])],
    ...rcloneCallOptions(job),
    onLog: (e) => {
      if (/no common hash/i.test(e.msg)) hashed = false;
    },
  });
  const text = await readFile(combined, "utf8").catch(() => undefined);
  // Differences make rclone check exit 1; only a run that compared nothing failed.
  if (text === undefined || (res.code !== 0 && text.trim() === "" && res.errors.some((e) => !/differences found|files missing|matching files|hashes could not be checked|no common hash/i.test(e)))) {
    if (res.code !== 0) throw new RcloneError("check", res);
  }
  const preview: ResyncPreview = { toRemote: [], toLocal: [], differ: [], hashed };
  const same: string[] = [];
  for (const line of (text ?? "").split("\n")) {
    const mark = line[0];
    const rel = line.slice(2);
    if (!rel) continue;
    if (mark === "+") preview.toRemote.push(rel);
    else if (mark === "-") preview.toLocal.push(rel);
    else if (mark === "*") preview.differ.push(rel);
    else if (mark === "=") same.push(rel);
    else if (mark === "!") preview.differ.push(rel); // could not be compared: treat as different (its remote copy is kept)
  }
  if (!hashed && same.length) {
    const common = { ...rcloneCallOptions(job), extraArgs: ["--filter-from", filtersFile] };
    const [local, remote] = await Promise.all([listFiles(job.bin, job.localRoot, common), listFiles(job.bin, job.remote.path(""), common)]);
    const time = (t: string | undefined) => (t ? Math.floor(Date.parse(t) / 1000) : NaN);
    for (const rel of same) if (time(local.get(rel)?.modTime) !== time(remote.get(rel)?.modTime)) preview.differ.push(rel);
  }
  for (const list of [preview.toRemote, preview.toLocal, preview.differ]) list.sort();
  return preview;
}

/**
 * rclone 1.60's resync replaces the remote version of every file that differs, keeping no copy (it has no
 * --backup-dir for bisync). Before it runs, those remote versions are copied into the remote trash like every other
 * replacement. Returns the trash folder (rclone path), or undefined when there was nothing to keep.
 */
export async function keepResyncReplacements(job: SyncJob, differ: readonly string[]): Promise<string | undefined> {
  if (job.config.trashDays <= 0 || differ.length === 0) return undefined;
  const listable = differ.filter((r) => !/[\r\n]/.test(r)); // --files-from-raw holds one name per line
  if (listable.length < differ.length) job.log.warn(`${differ.length - listable.length} differing file(s) with a line break in the name cannot be kept in the trash before the resync`);
  const list = path.join(workdir(job), "resync-replaced.txt");
  await writeFile(list, `${listable.join("\n")}\n`, { mode: 0o600 });
  const folder = job.remote.path(`${REMOTE_TRASH_DIR}/${trashStamp()}`);
  const res = await runRclone(job.bin, {
    args: ["copy", job.remote.path(""), folder, "--files-from-raw", list, "--no-traverse", ...(job.remote.isBucketStore ? ["--fast-list"] : [])],
    ...rcloneCallOptions(job),
  });
  if (res.code !== 0) throw new RcloneError("copy", res);
  return folder;
}

// Said once per process (a CLI run, or a gateway's lifetime): the service must not repeat it every cycle.
const degradedSaid = new Set<string>();

/** Features of the config that this rclone cannot provide: they degrade, and the user is told how. */
export function degradedFeatures(job: SyncJob): string[] {
  const v = job.bin.version.raw;
  const out: string[] = [];
  if (!flagSupported(job.bin.version, "--conflict-resolve")) {
    out.push(
      `rclone ${v} cannot resolve bisync conflicts (conflictResolve "${job.config.conflictResolve}" needs rclone >= 1.66): a file changed on both sides keeps both versions (..path1/..path2) and \`status\` lists them`,
    );
  }
  if (job.config.trashDays > 0 && !flagSupported(job.bin.version, "--backup-dir1")) {
    out.push(`rclone ${v} has no bisync trash (trashDays needs rclone >= 1.66 in bisync mode): what bisync deletes or replaces is not kept; the maxDelete guard still applies`);
  }
  return out;
}

function sayDegraded(job: SyncJob): void {
  for (const message of degradedFeatures(job)) {
    if (degradedSaid.has(message)) continue;
    degradedSaid.add(message);
    job.log.warn(message);
  }
}

function conflictResolveArgs(bin: RcloneBinary, job: SyncJob): string[] {
  if (!flagSupported(bin.version, "--conflict-resolve")) return [];
  const map = { newer: "newer", local: "path1", remote: "path2" } as const;
  return ["--conflict-resolve", map[job.config.conflictResolve], "--conflict-loser", "num"];
}

export interface BisyncOptions {
  resync?: boolean;
  dryRun?: boolean;
  force?: boolean;
  /** Resync: compare by hash (both sides have one in common), so same size and time with other bytes is copied too. */
  checksum?: boolean;
  /** `sync --max-delete P%`: rclone bisync's own per-side percentage for this run. */
  maxDeletePercent?: number;
}

export function bisyncArgs(job: SyncJob, opts: BisyncOptions, filtersFile: string): string[] {
  const bin = job.bin;
  const args = [
    "bisync",
    job.localRoot,
    job.remote.path(""),
    "--workdir",
    workdir(job),
    "--filters-file",
    filtersFile,
    "--max-delete",
    String(Math.max(0, Math.min(100, Math.floor(opts.maxDeletePercent ?? job.config.maxDelete)))),
  ];
  if (job.remote.isBucketStore) args.push("--fast-list");
  args.push(job.config.copySymlinks ? "--copy-links" : "--skip-links");
  args.push(...conflictResolveArgs(bin, job));
  if (flagSupported(bin.version, "--resilient")) args.push("--resilient");
  if (flagSupported(bin.version, "--recover")) args.push("--recover");
  if (flagSupported(bin.version, "--max-lock")) args.push("--max-lock", "2m");
  if (flagSupported(bin.version, "--create-empty-src-dirs")) args.push("--create-empty-src-dirs");
  if (job.config.trashDays > 0 && flagSupported(bin.version, "--backup-dir1")) {
    const stamp = trashStamp();
    args.push("--backup-dir1", path.join(job.localRoot, LOCAL_PRODUCT_DIR, "trash", stamp));
    args.push("--backup-dir2", job.remote.path(`${REMOTE_TRASH_DIR}/${stamp}`));
  }
  if (opts.resync) args.push("--resync");
  if (opts.resync && opts.checksum) args.push("--checksum");
  if (opts.force) args.push("--force");
  if (opts.dryRun) args.push("--dry-run");
  return args;
}

/** Conflict copies rclone (< 1.66, or conflictResolve with loser kept) leaves beside the original. */
export async function findConflicts(localRoot: string): Promise<string[]> {
  const files = await walkFiles(localRoot);
  return files.filter((f) => /\.\.path[12]$|\.conflict\d*$/.test(f) && !f.startsWith(LOCAL_PRODUCT_DIR + path.sep));
}

export async function runBisync(job: SyncJob, opts: BisyncOptions = {}): Promise<BisyncResult> {
  const dir = workdir(job);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const filtersFile = path.join(dir, "filters.txt");
  await writeFile(filtersFile, bisyncFilters(job), { mode: 0o600 });
  if (!opts.resync && !(await hasPriorListings(dir))) {
    throw new ResyncRequiredError("there is no bisync state for this pair yet (first run, or the state was lost)");
  }
  await clearStaleBisyncLocks(dir);
  sayDegraded(job);
  await mkdir(job.localRoot, { recursive: true });
  if (opts.resync && !opts.dryRun) {
    // A first baseline against a folder that does not exist yet: create it (idempotent).
    await runRclone(job.bin, { args: ["mkdir", job.remote.path("")], ...rcloneCallOptions(job) });
  }
  const marker = path.join(dir, "run-in-progress");
  if (!opts.resync && !opts.dryRun && (await exists(marker))) {
    await healInterruptedBisync(job, dir, ["--filter-from", filtersFile]);
  }
  if (!opts.dryRun) await writeFile(marker, new Date().toISOString());
  // A dry run goes past rclone's safety stops (nothing changes) so that it can show the whole plan.
  const args = bisyncArgs(job, opts.dryRun ? { ...opts, force: true } : opts, filtersFile);
  const deletes = { remote: [] as string[], workspace: [] as string[] };
  const res = await runRclone(job.bin, {
    args,
    ...rcloneCallOptions(job),
    verbose: true,
    onStats: transferStats(job),
    onLog: (e) => {
      // "- Path1    File was deleted    - notes.md": gone from the workspace, so bisync deletes it on the remote.
      const m = /^-\s+Path([12])\s+File was deleted\s+-\s+(.*)$/.exec(e.msg);
      if (m) (m[1] === "1" ? deletes.remote : deletes.workspace).push(m[2]!);
    },
    onSpawn: (pid) => {
      void writeJson(path.join(dir, "rclone-owner.json"), { pid, host: os.hostname(), startTime: processStartTime(pid) });
      job.onChild?.(pid);
    },
  });
  if (res.code !== 0) {
    const text = res.errors.join("\n");
    if (/Must run --resync|cannot find prior Path1 or Path2 listings/i.test(text)) {
      throw new ResyncRequiredError("rclone bisync lost or rejected its prior listings");
    }
    const allChanged = /all files were changed on (Path[12])/i.exec(text);
    if (allChanged) {
      // rclone's guard against a shifted clock or a remounted folder; with one or two files an ordinary edit trips it.
      const side = allChanged[1] === "Path1" ? "workspace" : "remote";
      throw new OperationError(
        `bisync stopped before changing anything: every file on the ${side} side changed since the last run. rclone treats that as a sign of a clock or mount problem. If the changes are real (e.g. a small workspace where the only files were edited), run once: workspace-sync sync --force`,
      );
    }
    if (/too many deletes|max-delete/i.test(text)) {
      const limit = opts.maxDeletePercent ?? job.config.maxDelete;
      const m = /too many deletes \(>\d+%, (\d+) of (\d+)\)/i.exec(text);
      const needed = m ? `${Math.min(100, Math.ceil((Number(m[1]) / Number(m[2])) * 100))}%` : "N%";
      throw new OperationError(
        `bisync stopped before deleting anything: ${m ? `${m[1]} of ${m[2]} files` : "more than maxDelete"} on one side would be deleted, more than ` +
          `${opts.maxDeletePercent !== undefined ? `the --max-delete of this run (${limit}%)` : `maxDelete (${limit}%)`}. ` +
          "`workspace-sync sync --dry-run` lists them. If a side really lost these files, restore them first; if the deletions are intended, " +
          `let this one run through with \`workspace-sync sync --max-delete ${needed}\``,
      );
    }
    throw new RcloneError("bisync", res);
  }
  await rm(marker, { force: true });
  const result: BisyncResult = { conflicts: await findConflicts(job.localRoot), resynced: !!opts.resync && !opts.dryRun, dryRun: !!opts.dryRun };
  if (opts.dryRun && !opts.resync) {
    deletes.remote.sort();
    deletes.workspace.sort();
    result.deletes = deletes;
    result.guardPreview = await bisyncGuardPreview(job, dir, deletes, opts.maxDeletePercent);
  }
  return result;
}

/** rclone bisync's own check, redone for the preview: deletions on a side against that side's files of the last run. */
async function bisyncGuardPreview(job: SyncJob, dir: string, deletes: { remote: string[]; workspace: string[] }, percent?: number): Promise<string[] | undefined> {
  const [path1, path2] = await Promise.all([priorListing(dir, "path1"), priorListing(dir, "path2")]);
  const maxDelete = percent ?? job.config.maxDelete;
  const hint = { command: "workspace-sync sync", percentOnly: true };
  const lines: string[] = [];
  for (const [side, paths, detected, other] of [
    ["remote", deletes.remote, path1, path2],
    ["workspace", deletes.workspace, path2, path1],
  ] as const) {
    const sizes = new Map(paths.map((p) => [p, other?.get(p)?.size ?? detected?.get(p)?.size ?? 0]));
    const plan = { destinationFiles: detected?.size ?? paths.length, deletes: [...paths], sizes };
    // rclone compares with >: the product's guard uses the same allowance.
    if (guardStops(plan, maxDelete)) lines.push(...describeStoppedDeletions(plan, maxDelete, side, hint));
  }
  return lines.length ? lines : undefined;
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
