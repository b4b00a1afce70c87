// Where a restore lands and how it becomes visible: everything is extracted into a hidden staging folder inside
// the target and moved into place only after the whole snapshot was read and checked; a failure removes the
// staging folder (and a target the restore created), so no half-restored tree is ever presented as good.
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, rename, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../util/errors.js";

export interface PreparedTarget {
  target: string;
  staging: string;
  createdTarget: boolean;
}

const STAGING_PREFIX = ".workspace-sync-restore-";

async function isEmptyDir(dir: string): Promise<boolean | undefined> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st) return undefined;
  if (!st.isDirectory()) throw new UsageError(`restore target ${dir} exists and is not a folder`);
  return (await readdir(dir)).length === 0;
}

/** Checks the target (refusing a non-empty one without force) and creates the staging folder. */
export async function prepareTarget(target: string, force: boolean): Promise<PreparedTarget> {
  const empty = await isEmptyDir(target);
  if (empty === false && !force) {
    throw new UsageError(`restore target ${target} is not empty: choose an empty or new folder, or pass --force to restore into it (files of the same name are replaced)`);
  }
  const createdTarget = empty === undefined;
  await mkdir(target, { recursive: true, mode: 0o700 });
  const staging = path.join(target, `${STAGING_PREFIX}${randomBytes(4).toString("hex")}`);
  await mkdir(staging, { mode: 0o700 });
  return { target, staging, createdTarget };
}

/** Undo after a failure: the staging folder goes, and so does the target when this restore created it. */
export async function discardTarget(t: PreparedTarget): Promise<void> {
  await rm(t.staging, { recursive: true, force: true });
  if (t.createdTarget) await rmdir(t.target).catch(() => {});
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
  for (const name of await readdir(t.staging)) await place(path.join(t.staging, name), path.join(t.target, name));
  await rm(t.staging, { recursive: true, force: true });
}
