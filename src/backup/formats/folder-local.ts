// The backup folder on this machine (a `local` remote without crypt: ResolvedRemote.localDir), reached with plain
// file-system calls instead of an rclone child per step. rclone's local backend does the same calls behind a process
// start (~55 ms each, five or more per backup) and a pipe every stored byte crosses twice. Semantics match what
// rclone 1.60's local backend gives the formats: a listing of the folder's regular files (symlinks and sub-folders
// left out), objects written in place under their final name (a snapshot exists only once its manifest is written,
// see archive/write.ts), missing objects reported as missing. Failures become OperationErrors naming the file.
import { createReadStream, createWriteStream } from "node:fs";
import { type FileHandle, lstat, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import type { ListedFile } from "../../rclone/listing.js";
import { OperationError } from "../../util/errors.js";

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** An fs failure as a message that names the object and the folder, in plain words for the usual causes. */
export function localFailure(what: string, file: string, err: unknown): OperationError {
  const c = code(err);
  const why =
    c === "ENOSPC" || c === "EDQUOT"
      ? "the disk holding the backup folder is full"
      : c === "EACCES" || c === "EPERM"
        ? "permission denied"
        : c === "ENOENT"
          ? "it does not exist"
          : (err as Error).message;
  return new OperationError(`${what} ${file} failed: ${why}${c && !why.includes(c) ? ` (${c})` : ""}`, { cause: err });
}

/** The folder's regular files (not sub-folders, not symlinks), as rclone lsjson lists them; a missing folder is empty. */
export async function listLocalObjects(dir: string): Promise<Map<string, ListedFile>> {
  const out = new Map<string, ListedFile>();
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (code(err) === "ENOENT") return out;
    throw localFailure("listing", dir, err);
  }
  await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const st = await lstat(path.join(dir, e.name)).catch((err: unknown) => (code(err) === "ENOENT" ? undefined : Promise.reject(localFailure("reading", path.join(dir, e.name), err))));
        if (st?.isFile()) out.set(e.name, { path: e.name, size: st.size, modTime: st.mtime.toISOString() });
      }),
  );
  return out;
}

/** A small object's text; larger than `limit` is an error (a manifest never is). */
export async function readLocalObject(file: string, limit: number): Promise<string> {
  const st = await stat(file).catch((err: unknown) => Promise.reject(localFailure("reading", file, err)));
  if (st.size > limit) throw new OperationError(`reading ${file} failed: it holds ${st.size} bytes, more than the ${limit} expected`);
  return readFile(file, "utf8").catch((err: unknown) => Promise.reject(localFailure("reading", file, err)));
}

/** Size of a regular file, or undefined when there is none. */
export async function localObjectSize(file: string): Promise<number | undefined> {
  try {
    const st = await stat(file);
    return st.isFile() ? st.size : undefined;
  } catch (err) {
    if (code(err) === "ENOENT") return undefined;
    throw localFailure("reading", file, err);
  }
}

/** Deletes one object; one already gone counts as deleted. */
export async function deleteLocalObject(file: string): Promise<void> {
  const st = await lstat(file).catch(() => undefined);
  if (st?.isDirectory()) throw new OperationError(`deleting ${file} failed: it is a folder`);
  await rm(file, { force: true }).catch((err: unknown) => Promise.reject(localFailure("deleting", file, err)));
}

const MIB = 1 << 20;

/** The object's bytes in 1 MiB reads (rclone cat's pipe hands out 64 KiB); `handle`: the file already open (the stream closes it). */
export function localReadStream(file: string, handle?: FileHandle): Readable {
  return createReadStream(file, { highWaterMark: MIB, ...(handle ? { fd: handle } : {}) });
}

/**
 * Where an upload's bytes go: the object's final name, created or truncated (as rclone rcat on the local backend),
 * owner-only (it is a backup of secrets), flushed to the disk before the stream reports "finished" — the manifest
 * that makes it a snapshot is written only after that.
 */
export function localWriteStream(file: string): Writable {
  return createWriteStream(file, { flags: "w", mode: 0o600, flush: true, highWaterMark: MIB });
}
