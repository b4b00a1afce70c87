// `backup export --snapshot ID [--to PATH]`: one snapshot (of any format; made for the repository's) as ONE portable
// file — the archive format's tar → zstd → age — for cold storage: a local file or an rclone `remote:path`. It opens
// with the standard tools (`age -d | zstd -d | tar -x`), encrypted to the configured passphrase or recipients.
// Nothing half-written ever carries the final name: the file is written under a temporary name beside it and renamed
// (moved on the remote) once complete; an existing destination is refused unless --force, and then replaced only by
// a complete export.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { lstat, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { type Readable, type Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ResolvedRemote } from "../rclone/remotes.js";
import { stallProbeOf } from "../rclone/reach.js";
import { RcloneError, runRclone } from "../rclone/runner.js";
import type { RemoteProbe } from "../rclone/stall.js";
import { OperationError, UsageError } from "../util/errors.js";
import { browseContext, entryStream, openNamed } from "./browse.js";
import { type Formats, withFormats } from "./formats/index.js";
import { judge } from "./entry-rules.js";
import { createCompressor, effectiveCompression, HashTap } from "./formats/archive/codec.js";
import { describeEncryption, encryptionFor } from "./formats/archive/encryption.js";
import { extensionFor } from "./formats/archive/naming.js";
import { createTarPackStream, type PackEntry } from "./formats/archive/tar-pack.js";
import { uploadObject } from "./formats/archive/transfer.js";
import type { ReadOptions, SnapshotReader } from "./formats/format.js";
import type { BackupJob } from "./job.js";
import { createMeter, type ProgressSink } from "./progress.js";
import { stampOf } from "./stamp.js";

export interface ExportOptions {
  snapshot?: string;
  /** A local file or folder, or an rclone `remote:path` (default: a new file in the current folder). */
  to?: string;
  force?: boolean;
  identity?: string;
  onProgress?: ProgressSink;
}

export interface ExportReport {
  id: string;
  short_id: string;
  snapshot: string;
  format: string;
  /** Where the file is (a local path or remote:path). */
  to: string;
  remote: boolean;
  replaced: boolean;
  files: number;
  dirs: number;
  symlinks: number;
  /** Bytes of file content exported. */
  bytes: number;
  /** Size and SHA-256 of the file written. */
  stored: { size: number; sha256: string };
  encryption: string;
  compression: string;
  /** Entries not exported (unsafe paths, special files), with the reason. */
  skipped: { path: string; reason: string }[];
}

/** rclone's `remote:path` (a configured remote's name, then a colon), as opposed to a local path. */
export function isRemotePath(to: string): boolean {
  if (to.startsWith("/") || to.startsWith("./") || to.startsWith("../") || to.startsWith("~")) return false;
  const m = /^([\w.@+\- ]+):/.exec(to);
  return !!m && m[1]!.length > 1; // "C:" is a drive letter
}

/** The tar entries of a stored snapshot, paths made safe; what cannot be exported is reported, never packed. */
async function* packEntries(
  reader: SnapshotReader,
  readOpts: ReadOptions,
  counts: { files: number; dirs: number; symlinks: number; bytes: number },
  skipped: ExportReport["skipped"],
  onBytes: (n: number) => void,
): AsyncGenerator<PackEntry> {
  for await (const e of entryStream(reader, readOpts)) {
    const v = judge(e);
    if (v.refused !== undefined) {
      skipped.push({ path: e.path, reason: v.refused });
      continue;
    }
    const common = { archivePath: v.rel, absPath: "", mode: e.mode ?? (e.type === "dir" ? 0o755 : 0o644), mtimeMs: e.mtime?.getTime() ?? 0 };
    if (e.type === "dir") {
      counts.dirs++;
      yield { ...common, type: "dir", size: 0 };
    } else if (e.type === "symlink") {
      counts.symlinks++;
      yield { ...common, type: "symlink", size: 0, linkTarget: e.linkTarget ?? "" };
    } else if (e.type === "file") {
      counts.files++;
      counts.bytes += e.size;
      yield {
        ...common,
        type: "file",
        size: e.size,
        content: async function* () {
          for await (const chunk of e.content()) {
            onBytes(chunk.length);
            yield chunk;
          }
        },
      };
    }
  }
}

const partialPrefix = (dest: string) => `.${path.basename(dest).slice(0, 80)}.partial-`;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes what killed exports to this destination left (`.<name>.partial-<pid>-<hex>` of a process that is gone). */
async function removeStalePartials(dest: string): Promise<void> {
  const prefix = partialPrefix(dest);
  for (const name of await readdir(path.dirname(dest)).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) await rm(path.join(path.dirname(dest), name), { force: true });
  }
}

/** Writes `stages` into a local file atomically (temporary name, fsync, rename); returns what was written. */
async function writeLocal(stages: (Readable | Transform)[], dest: string): Promise<{ size: number; sha256: string }> {
  await removeStalePartials(dest);
  const tmp = path.join(path.dirname(dest), `${partialPrefix(dest)}${process.pid}-${randomBytes(4).toString("hex")}`);
  const tap = new HashTap();
  try {
    await pipeline([...stages, tap, createWriteStream(tmp, { flags: "wx", mode: 0o600 })] as unknown as [Readable, Writable]);
    const handle = await open(tmp, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { size: tap.bytes, sha256: tap.digest() };
}

/** A remote location as the archive transfer code takes it: the destination's folder and the product's rclone.conf. */
function remoteFolder(job: BackupJob, to: string): { remote: ResolvedRemote; name: string } {
  const colon = to.indexOf(":");
  const inside = to.slice(colon + 1);
  const slash = inside.lastIndexOf("/");
  const folder = `${to.slice(0, colon + 1)}${slash >= 0 ? inside.slice(0, slash) : ""}`;
  const name = slash >= 0 ? inside.slice(slash + 1) : inside;
  const join = (sub = "") => (sub ? `${folder}${folder.endsWith(":") || folder.endsWith("/") ? "" : "/"}${sub}` : folder);
  return {
    remote: { configPath: job.remote.configPath, readOnly: true, sections: {}, backendType: "", isBucketStore: false, path: join, display: folder },
    name,
  };
}

/** Size of a remote object (undefined when absent), or "dir" for a folder. */
async function remoteStat(job: BackupJob, target: string, stallProbe?: RemoteProbe): Promise<number | "dir" | undefined> {
  const res = await runRclone(job.bin, {
    args: ["lsjson", "--stat", "--no-mimetype", target],
    configPath: job.remote.configPath,
    env: job.env,
    signal: job.signal,
    stdout: { capture: 1 << 20 },
    timeoutMs: 120_000,
    stallProbe,
  });
  if (res.code !== 0) {
    if (res.code === 3 || res.code === 4 || res.errors.some((e) => /not found|doesn't exist|NoSuchKey|object not found/i.test(e))) return undefined;
    throw new OperationError(`cannot look at ${target}: ${new RcloneError("lsjson", res).message}`);
  }
  const parsed = JSON.parse(res.stdout) as { Size?: number; IsDir?: boolean };
  return parsed.IsDir ? "dir" : (parsed.Size ?? 0);
}

async function rcloneDo(job: BackupJob, command: string, args: string[], stallProbe?: RemoteProbe): Promise<void> {
  const res = await runRclone(job.bin, { args: [command, ...args], configPath: job.remote.configPath, env: job.env, signal: job.signal, timeoutMs: 600_000, stallProbe });
  if (res.code !== 0) throw new RcloneError(command, res);
}

export function exportSnapshot(job: BackupJob, opts: ExportOptions): Promise<ExportReport> {
  return withFormats(job, (formats) => exportSnapshotWith(job, formats, opts));
}

async function exportSnapshotWith(job: BackupJob, formats: Formats, opts: ExportOptions): Promise<ExportReport> {
  const ctx = await browseContext(formats);
  const opened = await openNamed(job, ctx, opts.snapshot, opts.identity);
  const s = opened.snapshot;
  const compression = effectiveCompression("zstd");
  const encryption = encryptionFor(job.config);
  const encrypted = encryption.info.scheme !== "none";
  const defaultName = `workspace-sync-${s.shortId}-${stampOf(s.time)}.${extensionFor(compression, encrypted)}`;
  const remote = !!opts.to && isRemotePath(opts.to);
  let dest = opts.to ?? defaultName;
  let replaced = false;

  if (remote) {
    if (dest.endsWith("/") || dest.endsWith(":") || (await remoteStat(job, dest)) === "dir") dest = `${dest.replace(/\/+$/, "")}${dest.endsWith(":") ? "" : "/"}${defaultName}`;
    const existing = await remoteStat(job, dest);
    if (existing !== undefined) {
      if (!opts.force) throw new UsageError(`${dest} already exists: choose another --to, or pass --force to replace it (only once the new export is complete)`);
      replaced = true;
    }
  } else {
    dest = path.resolve(dest);
    let st = await lstat(dest).catch(() => undefined);
    if (st?.isDirectory()) {
      dest = path.join(dest, defaultName);
      st = await lstat(dest).catch(() => undefined);
    }
    const parent = await lstat(path.dirname(dest)).catch(() => undefined);
    if (!parent?.isDirectory()) throw new UsageError(`the folder ${path.dirname(dest)} does not exist (an unmounted disk?): create it, or choose another --to`);
    if (st) {
      if (!opts.force) throw new UsageError(`${dest} already exists: choose another --to, or pass --force to replace it (only once the new export is complete)`);
      if (!st.isFile()) throw new UsageError(`${dest} exists and is not a file: choose another --to`);
      replaced = true;
    }
  }

  const counts = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  const skipped: ExportReport["skipped"] = [];
  const meter = createMeter("export", s.bytes ?? 0, s.files ?? 0, opts.onProgress);
  let read = 0;
  const readOpts: ReadOptions = { ...(job.signal ? { signal: job.signal } : {}), onTotal: (files, bytes) => meter.setTotal(bytes, files) };
  const entries = packEntries(opened.reader, readOpts, counts, skipped, (n) => meter.update((read += n), counts.files));
  const stages = [createTarPackStream(entries), createCompressor(compression), encryption.create()].filter((x): x is Transform => x !== undefined) as (Readable | Transform)[];
  let stored: { size: number; sha256: string };
  try {
    if (!remote) stored = await writeLocal(stages, dest);
    else {
      const { remote: folder, name } = remoteFolder(job, dest);
      const tmp = `.${name.slice(0, 80)}.partial-${randomBytes(4).toString("hex")}`;
      // A destination that stops answering ends the export (stall.ts) instead of holding it for rclone's timeouts.
      const stallProbe = stallProbeOf(job.bin, folder, job.env);
      try {
        stored = await uploadObject({ bin: job.bin, remote: folder, name: tmp, stages, expectedBytes: s.bytes ?? s.storedBytes ?? 0, env: job.env, stallProbe, ...(job.signal ? { signal: job.signal } : {}) });
        const size = await remoteStat(job, folder.path(tmp), stallProbe);
        if (size !== stored.size) throw new OperationError(`the remote holds ${size ?? "no"} bytes of ${folder.path(tmp)} after the upload, ${stored.size} were sent`);
        await rcloneDo(job, "moveto", [folder.path(tmp), dest], stallProbe);
      } catch (err) {
        await rcloneDo(job, "deletefile", [folder.path(tmp)], stallProbe).catch(() => {});
        throw err;
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new OperationError(`export of snapshot ${s.shortId} (${s.name}) failed: ${(err as Error).message}; ${replaced ? `${dest} was left as it was` : "nothing was written"}`, { cause: err });
  }
  meter.finish();
  return {
    id: s.id,
    short_id: s.shortId,
    snapshot: s.name,
    format: s.format,
    to: dest,
    remote,
    replaced,
    ...counts,
    stored,
    encryption: describeEncryption(encryption.info),
    compression,
    skipped,
  };
}
