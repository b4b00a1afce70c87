// Where a restore lands and how it becomes visible. A restore that fails or is killed never leaves a tree that
// looks complete:
// - a new target: everything is extracted into a hidden sibling `.workspace-sync-restore-<pid>-<hex>-<name>` and
//   renamed to the target in one step once the whole snapshot was read and checked — the target either does not
//   exist or is complete;
// - an existing target (empty, or --force): the marker file WORKSPACE-SYNC-RESTORE-INCOMPLETE.txt is written first,
//   everything is extracted into a hidden staging folder inside the target, moved into place, and the marker is
//   removed last — a target holding the marker is not a complete restore.
// Staging folders whose restore process is gone are removed by the next restore beside them, and a target that holds
// nothing but an interrupted restore's leftovers counts as empty.
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../util/errors.js";

export const STAGING_PREFIX = ".workspace-sync-restore-";
export const INCOMPLETE_MARKER = "WORKSPACE-SYNC-RESTORE-INCOMPLETE.txt";

const MARKER_TEXT =
  "This folder holds an interrupted or failed workspace-sync restore: it is NOT a complete copy of the snapshot.\n" +
  "Delete the folder and restore again, or run the same `workspace-sync backup restore --to` command again\n" +
  "(add --force if the folder holds other files).\n";

export interface PreparedTarget {
  target: string;
  staging: string;
  /** "rename": the staging folder becomes the target; "merge": entries move into an existing target. */
  mode: "rename" | "merge";
  /** The marker was already there (an earlier interrupted restore): a failure leaves it. */
  hadMarker: boolean;
}

/** The pid in a staging folder's name (`.workspace-sync-restore-<pid>-…`). */
function stagingOwner(name: string): number | undefined {
  const m = /^\.workspace-sync-restore-(\d+)-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes staging folders in dir whose restore is gone; returns the pids of restores still running there. */
async function removeStaleStaging(dir: string): Promise<number[]> {
  const running: number[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    const pid = stagingOwner(name);
    if (pid !== undefined && pid !== process.pid && processAlive(pid)) running.push(pid);
    else if (pid !== process.pid) await rm(path.join(dir, name), { recursive: true, force: true });
  }
  return running;
}

const stagingName = (suffix = "") => `${STAGING_PREFIX}${process.pid}-${randomBytes(4).toString("hex")}${suffix}`;

/** Checks the target (refusing a non-empty one without force) and creates the staging folder. */
export async function prepareTarget(target: string, force: boolean): Promise<PreparedTarget> {
  const st = await lstat(target).catch(() => undefined);
  if (!st) {
    const parent = path.dirname(target);
    await mkdir(parent, { recursive: true, mode: 0o700 });
    await removeStaleStaging(parent);
    const staging = path.join(parent, stagingName(`-${path.basename(target)}`.slice(0, 100)));
    await mkdir(staging, { mode: 0o700 });
    return { target, staging, mode: "rename", hadMarker: false };
  }
  if (!st.isDirectory()) throw new UsageError(`restore target ${target} exists and is not a folder`);
  const running = await removeStaleStaging(target);
  if (running.length) throw new UsageError(`another restore (pid ${running.join(", ")}) is writing into ${target}: wait for it, or choose another folder`);
  const entries = await readdir(target);
  const hadMarker = entries.includes(INCOMPLETE_MARKER);
  const content = entries.filter((n) => n !== INCOMPLETE_MARKER);
  if (content.length > 0 && !force) {
    const why = hadMarker ? ` (it holds an interrupted restore, see ${INCOMPLETE_MARKER})` : "";
    throw new UsageError(`restore target ${target} is not empty${why}: choose an empty or new folder, or pass --force to restore into it (files of the same name are replaced)`);
  }
  // Written before anything else lands in the target, removed after the last entry is in place.
  await writeFile(path.join(target, INCOMPLETE_MARKER), MARKER_TEXT, { mode: 0o600 });
  const staging = path.join(target, stagingName());
  await mkdir(staging, { mode: 0o700 });
  return { target, staging, mode: "merge", hadMarker };
}

/** Undo after a failure: the staging folder goes, and the marker unless an earlier interrupted restore left it. */
export async function discardTarget(t: PreparedTarget): Promise<void> {
  await rm(t.staging, { recursive: true, force: true });
  if (t.mode === "merge" && !t.hadMarker) await rm(path.join(t.target, INCOMPLETE_MARKER), { force: true });
}

/** Moves a staged entry into place; folders merge, anything else replaces what is there (never followed). */
async function place(from: string, to: string): Promise<void> {
  const src = await lstat(from);
  const dest = await lstat(to).catch(() => undefined);
  if (dest && src.isDirectory() && dest.isDirectory()) {
    for (const name of await readdir(from)) await place(path.join(from, name), path.join(to, name));
    return;
  }
  if (dest) await rm(to, { recursive: true, force: true });
  await rename(from, to);
}

export async function commitTarget(t: PreparedTarget): Promise<void> {
  if (t.mode === "rename") {
    await rename(t.staging, t.target);
    return;
  }
  for (const name of await readdir(t.staging)) await place(path.join(t.staging, name), path.join(t.target, name));
  await rm(t.staging, { recursive: true, force: true });
  await rm(path.join(t.target, INCOMPLETE_MARKER), { force: true });
}
