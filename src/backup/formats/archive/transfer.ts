// Streams between this process and the repository through `rclone rcat` / `rclone cat`, or, for a folder on this
// machine, straight to and from the file (folder-local.ts). Every stage failure
// (a read error, a stage destroyed, rclone exiting early or killed) settles the transfer with the first error that
// happened — the root cause — and stops the rest: no hang on a stalled pipe, no unhandled EPIPE.
import { type FileHandle, mkdir, open } from "node:fs/promises";
import path from "node:path";
import { PassThrough, type Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { RcloneBinary } from "../../../rclone/binary.js";
import type { ResolvedRemote } from "../../../rclone/remotes.js";
import { RcloneError, runRclone } from "../../../rclone/runner.js";
import type { RemoteProbe } from "../../../rclone/stall.js";
import { localFailure, localReadStream, localWriteStream } from "../folder-local.js";
import { createOwnedChunks, HashTap } from "./codec.js";
import { gcPacer } from "../../gc-pacer.js";
import { digestInHelper, digestOpenFile, type HelperDigest, helperSuitsFile } from "../../../util/file-digest.js";

export interface TransferCommon {
  bin: RcloneBinary;
  remote: ResolvedRemote;
  /** Object name in the repository folder. */
  name: string;
  /** rclone's environment (secrets stripped). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
  /** Asked whether the remote still answers when rclone has been quiet for a while (FolderAccess.stallProbe). */
  stallProbe?: RemoteProbe;
}

export interface Stored {
  size: number;
  sha256: string;
}

/** First error wins: later ones are consequences of stopping everything after it. */
class FirstError {
  error?: Error;
  set(err: unknown): void {
    this.error ??= err instanceof Error ? err : new Error(String(err));
  }
}

const MIB = 1 << 20;

/**
 * Settled by the first failure: a read stops waiting then. Once a consumer gave up with the whole object already read
 * (a restore target that filled up at the end), the stage pipeline, every stream destroyed and closed, was seen never
 * to settle its promise: waiting for it hung the command.
 */
class Settle {
  settle!: () => void;
  readonly promise = new Promise<void>((resolve) => (this.settle = resolve));
}

/**
 * S3 multipart uploads of unknown size use fixed parts (at most 10,000): size them from the expected object size
 * so a large snapshot fits (5 MiB parts stop at 48.8 GiB) while a small one keeps rclone's memory low.
 */
export function s3ChunkArgs(remote: ResolvedRemote, expectedBytes: number): string[] {
  if (remote.backendType !== "s3") return [];
  const perPart = Math.ceil((expectedBytes * 1.1) / 9000 / MIB);
  const mib = Math.min(5 * 1024, Math.max(8, perPart));
  return ["--s3-chunk-size", `${mib}M`];
}

/**
 * A restore through rclone (ReadOptions.writesFiles): a full collection every 16 MiB of stored bytes. The restore
 * writer keeps per-file objects (paths, entries, the pieces of the decoded chunks it writes from) alive across minor
 * collections, so buffers that are not freed when used die in the old generation, which the CLI lets grow
 * (cli/heap-tuning.ts). rclone's pipe hands out views of memory several reads may share: they are copied into buffers
 * of their own (createOwnedChunks), which the stages free as they go, but the pipe's own pieces are left to the
 * collector. 1 GiB over sftp into tmpfs, peak RSS at every 8 / 16 / 32 / 64 MiB: 142 / 142 / 152–155 / 154–156 MiB;
 * 13.0–14.1 / 12.6–12.7 / 11.7–13.9 s (without the copies, every 8 MiB: 15.2–16.6 s at 141 MiB). Each full
 * collection costs ~15 ms of the main thread and as much again on V8's helper threads. A folder on this machine needs
 * none of it: its reads are buffers of their own (downloadLocal), freed as used, and it keeps the default 64 MiB.
 */
export const WRITER_MAJOR_EVERY = 16 * MIB;

/**
 * A local object this large or larger is hashed by a helper process (downloadLocal); a smaller one here (starting a
 * process costs ~5 ms, hashing 16 MiB here ~12 ms).
 */
const HELPER_DIGEST_BYTES = 16 * MIB;


/** The hashing tap every stored byte passes, also pacing garbage collection to the stream (see gc-pacer.ts). */
function pacedTap(onBytes?: (bytes: number) => void, majorEvery?: number, handsOver = false, hashes = true): HashTap {
  const pace = gcPacer(undefined, majorEvery);
  return new HashTap(
    (total) => {
      pace(total);
      onBytes?.(total);
    },
    handsOver,
    hashes,
  );
}

export async function uploadObject(
  opts: TransferCommon & { stages: (Readable | Transform)[]; expectedBytes: number; onBytes?: (bytes: number) => void },
): Promise<Stored> {
  if (opts.remote.localDir !== undefined) return uploadLocal(path.join(opts.remote.localDir, opts.name), opts);
  const failure = new FirstError();
  const tap = pacedTap(opts.onBytes);
  const stages = [...opts.stages, tap] as unknown as [Readable, ...Transform[]];
  let done = false;
  const piped = pipeline(stages).then(
    () => void (done = true),
    (err: unknown) => failure.set(err),
  );
  // --ignore-checksum: after a streamed upload rclone re-reads the whole object to compare MD5/SHA-1 (from disk on the
  // local backend, md5sum on an sftp server): 3.4 s of CPU per GiB here, more than encryption and hashing together.
  // The snapshot's own SHA-256 (taken from the stream, in the manifest) and the size check after the upload do that
  // job, and verify/restore check the SHA-256 end to end. Transport integrity (TLS, SSH, S3 part MD5s) is unaffected.
  const args = ["rcat", opts.remote.path(opts.name), "--ignore-checksum", ...s3ChunkArgs(opts.remote, opts.expectedBytes)];
  try {
    const res = await runRclone(opts.bin, { args, configPath: opts.remote.configPath, stdin: tap, env: opts.env, signal: opts.signal, onSpawn: opts.onSpawn, stallProbe: opts.stallProbe });
    if (res.code !== 0) failure.set(new RcloneError("rcat", res));
  } catch (err) {
    failure.set(err);
  } finally {
    // rclone is gone: a pipeline still running has nobody reading it any more. Every stage is stopped, not just
    // the first: once the tar source has ended (the rest of the archive still buffered downstream), destroying it
    // is a no-op and the later stages would wait forever for a reader.
    if (!done) {
      const stopped = new Error("the upload stopped before the snapshot was complete");
      for (const stage of stages) if (!stage.destroyed) stage.destroy(stopped);
    }
    await piped;
  }
  if (failure.error) throw failure.error;
  if (!done) throw new Error("the upload stopped before the snapshot was complete");
  return { size: tap.bytes, sha256: tap.digest() };
}

/**
 * Streams an object through `stages` into `consume`. Resolves with consume's result and what was read (size,
 * SHA-256 of the stored bytes); throws the first failure of rclone, a stage or the consumer.
 */
export async function downloadObject<T>(
  opts: TransferCommon & {
    stages: Transform[];
    consume: (plain: Readable) => Promise<T>;
    onBytes?: (bytes: number) => void;
    /** The stages free what they consumed (a restore's): reads come as buffers of their own, handed over. */
    handOver?: boolean;
  },
): Promise<{ result: T; stored: Stored }> {
  if (opts.remote.localDir !== undefined) return downloadLocal(path.join(opts.remote.localDir, opts.name), opts);
  const failure = new FirstError();
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const src = new PassThrough({ highWaterMark: MIB });
  const tap = pacedTap(opts.onBytes, opts.handOver ? WRITER_MAJOR_EVERY : undefined);
  // rclone's pipe hands out views of memory several reads may share: copied into buffers of their own for a reader
  // whose stages free what they consumed (a restore), so that fewer full collections keep the memory bounded.
  const owned = opts.handOver ? [createOwnedChunks()] : [];
  const out = new PassThrough({ highWaterMark: MIB });
  const failed = new Settle();
  const fail = (err: unknown) => {
    failure.set(err);
    stop.abort();
    // Both ends: the source may have ended already (rclone done), and a consumer that gave up no longer reads.
    src.destroy(failure.error);
    out.destroy(failure.error);
    failed.settle();
  };
  const piped = pipeline([src, ...owned, tap, ...opts.stages, out] as [PassThrough, ...Transform[]]).catch(fail);
  let result: T | undefined;
  const consuming = opts.consume(out).then(
    (r) => void (result = r),
    (err: unknown) => fail(err),
  );
  const rclone = runRclone(opts.bin, {
    args: ["cat", opts.remote.path(opts.name)],
    configPath: opts.remote.configPath,
    stdout: { pipe: src },
    env: opts.env,
    signal: stop.signal,
    onSpawn: opts.onSpawn,
    stallProbe: opts.stallProbe,
  }).then(
    (res) => {
      if (res.code === 0) src.end();
      else if (!res.aborted || !failure.error) fail(new RcloneError("cat", res));
    },
    (err: unknown) => fail(err),
  );
  try {
    await Promise.race([Promise.all([rclone, piped, consuming]), failed.promise]);
  } finally {
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
  if (failure.error) throw failure.error;
  return { result: result as T, stored: { size: tap.bytes, sha256: tap.digest() } };
}

/** uploadObject into a folder on this machine: the stages, the tap, the file (flushed before this resolves). */
async function uploadLocal(file: string, opts: { stages: (Readable | Transform)[]; onBytes?: (bytes: number) => void; signal?: AbortSignal }): Promise<Stored> {
  const tap = pacedTap(opts.onBytes);
  // rclone creates the folder on the first upload: so does this (owner-only, like the repository's folders).
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 }).catch((err: unknown) => Promise.reject(localFailure("creating the folder of", file, err)));
  const out = localWriteStream(file);
  try {
    await pipeline([...opts.stages, tap, out] as unknown as [Readable, ...Transform[]], opts.signal ? { signal: opts.signal } : {});
  } catch (err) {
    // The file stays as far as it got: a data object without a manifest is a leftover the next run removes.
    if ((err as { syscall?: string }).syscall) throw localFailure("writing", file, err);
    throw err;
  }
  return { size: tap.bytes, sha256: tap.digest() };
}

/**
 * Opens a local object for a download: the stream's handle (the stream closes it) and, for a large object where a
 * second read is cheap, the helper's own (the caller closes it) with the helper started on it. Two opens of the same
 * file, checked to be the same one (a name replaced in between gets no helper: the tap hashes instead).
 */
async function openForDigest(file: string): Promise<{ handle: FileHandle; helperHandle?: FileHandle; helper?: HelperDigest }> {
  const opened: FileHandle[] = [];
  try {
    const handle = await open(file, "r");
    opened.push(handle);
    const st = await handle.stat();
    if (st.size < HELPER_DIGEST_BYTES || !(await helperSuitsFile(file, st.size))) return { handle };
    const helperHandle = await open(file, "r");
    opened.push(helperHandle);
    const other = await helperHandle.stat();
    const helper = other.ino === st.ino && other.dev === st.dev ? await digestInHelper(helperHandle.fd) : undefined;
    if (helper) return { handle, helperHandle, helper };
    await opened.pop()!.close();
    return { handle };
  } catch (err) {
    await Promise.all(opened.map((h) => h.close().catch(() => {})));
    throw localFailure("reading", file, err);
  }
}

/**
 * downloadObject from a folder on this machine: the file in 1 MiB reads, then the same tap and stages. Every read is
 * handed over (an fs stream allocates a buffer of its own per read, and nothing but the stages reads it), so the
 * stages free what they consumed, and a restore's garbage needs no extra full collections (WRITER_MAJOR_EVERY). The
 * 1 MiB reads were what a 1 GiB restore paced at 64 MiB kept until a full collection (peak 150–153 MiB; now 133).
 * An object of HELPER_DIGEST_BYTES or more is hashed by a helper process reading the same file beside the stages
 * (util/file-digest.ts), where a second read is cheap (Linux, a file system of this machine, room in the page cache):
 * the SHA-256 leaves the main thread, which is what a restore waits for. Should the helper fail, the file is hashed
 * here once the stages are done.
 */
async function downloadLocal<T>(
  file: string,
  opts: { stages: Transform[]; consume: (plain: Readable) => Promise<T>; onBytes?: (bytes: number) => void; signal?: AbortSignal },
): Promise<{ result: T; stored: Stored }> {
  const { handle, helperHandle, helper } = await openForDigest(file);
  try {
    const failure = new FirstError();
    const src = localReadStream(file, handle);
    const tap = pacedTap(opts.onBytes, undefined, true, !helper);
    const out = new PassThrough({ highWaterMark: MIB });
    const failed = new Settle();
    const fail = (err: unknown) => {
      failure.set((err as { syscall?: string }).syscall === "read" ? localFailure("reading", file, err) : err);
      src.destroy();
      out.destroy(failure.error);
      failed.settle();
    };
    const onAbort = () => fail(opts.signal?.reason ?? new Error("aborted"));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let result: T | undefined;
    try {
      await Promise.race([
        Promise.all([
          pipeline([src, tap, ...opts.stages, out] as [Readable, ...Transform[]]).catch(fail),
          opts.consume(out).then(
            (r) => void (result = r),
            (err: unknown) => fail(err),
          ),
        ]),
        failed.promise,
      ]);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
    if (failure.error) throw failure.error;
    let sha256 = helper ? await helper.digest : tap.digest();
    if (sha256 === undefined) {
      // The helper gave no digest: the file is hashed here, from its own descriptor (same file as the one read).
      try {
        sha256 = await digestOpenFile(helperHandle!);
      } catch (err) {
        throw localFailure("reading", file, err);
      }
    }
    return { result: result as T, stored: { size: tap.bytes, sha256 } };
  } finally {
    if (helper) {
      helper.cancel();
      await helper.digest; // the helper reads its descriptor until it is gone
    }
    await helperHandle?.close();
  }
}
