// A file written piece by piece while a pack fills (Storage.stage()): appends queue up and one loop writes them in
// order, whatever queued meanwhile in one writev, off the caller's thread. The file is created on the first write,
// the first failure stops the writing and is reported by wait() and commit(), and commit() hands the complete file to
// the transport's own last step (a local folder: sync and rename into place; an rclone remote: upload it). A buffer
// appended is handed over: once written, its memory is freed at once (release-buffer.ts).
import { type FileHandle, mkdir, open, rm } from "node:fs/promises";
import path from "node:path";
import { releaseBuffer } from "../../../util/release-buffer.js";
import type { CallOptions, FileType, StagedFile } from "./storage.js";

/** What a file-system failure means for the user (disk full, permission denied), else the system's own message. */
export function fileSystemReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === "ENOSPC" ? "the disk is full" : e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : e.message;
}

/** Runs a file-system step, turning its failure into the transport's error (naming what failed where). */
export type FsStep = <T>(what: string, step: () => Promise<T>) => Promise<T>;
/** The transport's last step: the written file (its handle still open) becomes `type/name`; it closes the handle. */
export type FinishStep = (file: string, handle: FileHandle, type: FileType, name: string, opts?: CallOptions) => Promise<void>;

export class FileStage implements StagedFile {
  private handle: FileHandle | undefined;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;
  private done = false;
  private readonly waiters: Array<() => void> = [];

  constructor(
    /** The temporary file (created exclusively, 0600). */
    readonly file: string,
    private readonly fs: FsStep,
    private readonly finish: FinishStep,
  ) {}

  get pending(): number {
    return this.queued;
  }

  append(data: Uint8Array): void {
    if (this.done) throw new Error("append to a staged file after commit or discard");
    if (this.failure) return;
    this.queue.push(data);
    this.queued += data.length;
    this.writing ??= this.pump();
  }

  private async pump(): Promise<void> {
    try {
      await this.fs("writing a pack", async () => {
        this.handle ??= await openNew(this.file);
        while (this.queue.length > 0) {
          const batch = this.queue;
          this.queue = [];
          await writeAll(this.handle, batch);
          for (const b of batch) {
            this.queued -= b.length;
            releaseBuffer(b); // handed over by append(): its memory goes now, not at a later collection
          }
          this.wake();
        }
      });
    } catch (err) {
      this.failure ??= err as Error;
      this.queue = [];
      this.queued = 0;
    } finally {
      // An append that came after the loop's last look (while this promise settled) starts the next round.
      this.writing = this.queue.length > 0 && !this.failure ? this.pump() : undefined;
      this.wake();
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async wait(maxPending: number): Promise<void> {
    while (this.queued > maxPending && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
  }

  async commit(type: FileType, name: string, opts?: CallOptions): Promise<void> {
    try {
      await this.wait(0);
      this.done = true;
      const handle = this.handle ?? (await this.fs("writing a pack", () => openNew(this.file)));
      this.handle = undefined;
      try {
        await this.finish(this.file, handle, type, name, opts);
      } finally {
        await handle.close().catch(() => {}); // closed by finish() unless it failed first
      }
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  async discard(): Promise<void> {
    this.done = true;
    this.queue = [];
    this.queued = 0;
    while (this.writing) await this.writing.catch(() => {});
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    await rm(this.file, { force: true }).catch(() => {});
  }
}

/** Writes every part, in batches of writev (thousands of small blobs would be a thread-pool round trip each). */
export async function writeAll(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  for (let at = 0; at < parts.length; at += 512) {
    const batch = parts.slice(at, at + 512) as Uint8Array[];
    const total = batch.reduce((n, p) => n + p.length, 0);
    const { bytesWritten } = await handle.writev(batch);
    // A short write (rare) continues with the rest, byte-exact.
    if (bytesWritten < total) {
      const rest = Buffer.concat(batch).subarray(bytesWritten);
      for (let off = 0; off < rest.length; ) off += (await handle.write(rest, off, rest.length - off)).bytesWritten;
    }
  }
}

/**
 * Creates the staged file. Its folder may not exist yet: a first backup fills its first pack while the repository's
 * folders are still being made (Repository.initAhead); the folder is then made here (the init makes it too).
 */
async function openNew(file: string): Promise<FileHandle> {
  try {
    return await open(file, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    return await open(file, "wx", 0o600);
  }
}
