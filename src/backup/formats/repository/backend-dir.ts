// A repository in a local folder, laid out as restic's local backend does (`restic -r /path`): the product's
// `local` remotes (written directly, as restic writes a local path: no rclone child, no pipe), and fast tests.
// Writes go to a temporary name, are synced and renamed into place, so a crash never leaves a partial file under a
// final name; a killed run's temporary files are removed by the next prune. Packs are staged: each blob is written
// to a temporary file in data/ as it comes (a 16 MiB pack is never held in memory) and renamed into place when the
// pack is complete — restic's own listing, like ours, skips files there. Failures of the file system (disk
// full, permissions) are BackendErrors naming the file.
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { releaseBuffer } from "../../../util/release-buffer.js";
import { BackendError } from "./errors.js";
import type { ByteRange, CallOptions, FileInfo, FileType, ListableType, StagedFile, Storage } from "./storage.js";
import { notFound, repoPath } from "./storage.js";

const isNotFound = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

export class DirStorage implements Storage {
  readonly location: string;

  constructor(
    readonly root: string,
    /** How messages name the folder (defaults to its path). */
    display?: string,
  ) {
    this.location = display ?? root;
  }

  /** Runs a file-system step; an error other than "not found" becomes a BackendError saying what failed where. */
  private async fs<T>(what: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof BackendError) throw err;
      const e = err as NodeJS.ErrnoException;
      const why = e.code === "ENOSPC" ? "the disk is full" : e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : e.message;
      throw new BackendError(`${what} in ${this.location} failed: ${why}${e.code && !why.includes(e.code) ? ` (${e.code})` : ""}`, false, undefined, { cause: err });
    }
  }

  private file(type: FileType, name: string): string {
    return path.join(this.root, repoPath(type, name));
  }

  create(): Promise<void> {
    return this.fs("creating the repository folders", () => this.createDirs());
  }

  private async createDirs(): Promise<void> {
    for (const dir of ["index", "keys", "locks", "snapshots"]) await mkdir(path.join(this.root, dir), { recursive: true, mode: 0o700 });
    for (let i = 0; i < 256; i++) await mkdir(path.join(this.root, "data", i.toString(16).padStart(2, "0")), { recursive: true, mode: 0o700 });
  }

  async list(type: ListableType): Promise<FileInfo[]> {
    const dirs = type === "data" ? await readdir(path.join(this.root, "data")).catch((e: unknown) => (isNotFound(e) ? [] : Promise.reject(e))) : [""];
    const out: FileInfo[] = [];
    for (const sub of dirs) {
      const dir = path.join(this.root, type, sub);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (isNotFound(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") continue;
        throw err;
      }
      for (const name of names) {
        if (name.endsWith(".tmp") || name.startsWith(".")) continue;
        const st = await stat(path.join(dir, name)).catch(() => undefined);
        if (st?.isFile()) out.push({ name, size: st.size });
      }
    }
    return out;
  }

  async stat(type: FileType, name: string): Promise<number | undefined> {
    try {
      const st = await stat(this.file(type, name));
      return st.size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async load(type: FileType, name: string, range?: ByteRange): Promise<Buffer> {
    let handle;
    try {
      handle = await open(this.file(type, name), "r");
    } catch (err) {
      if (isNotFound(err)) throw notFound(type, name, this.location);
      throw err;
    }
    try {
      if (!range) return await handle.readFile();
      const buf = Buffer.alloc(range.length);
      let got = 0;
      while (got < range.length) {
        const { bytesRead } = await handle.read(buf, got, range.length - got, range.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await handle.close();
    }
  }

  save(type: FileType, name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    return this.fs(`storing ${repoPath(type, name)}`, () => this.write(type, name, data));
  }

  private async write(type: FileType, name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const target = this.file(type, name);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    const handle = await open(tmp, "wx", 0o600);
    try {
      await writeAll(handle, data instanceof Uint8Array ? [data] : data);
      await handle.sync();
    } catch (err) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
    await handle.close();
    await this.moveIntoPlace(tmp, target);
  }

  private async moveIntoPlace(tmp: string, target: string): Promise<void> {
    try {
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  stage(_type: FileType): StagedFile | undefined {
    const tmp = path.join(this.root, "data", `${randomBytes(8).toString("hex")}.tmp`);
    return new DirStagedFile(tmp, (what, step) => this.fs(what, step), (tmpFile, type, name) => this.moveIntoPlace(tmpFile, this.file(type, name)));
  }

  remove(type: FileType, name: string): Promise<void> {
    return this.fs(`deleting ${repoPath(type, name)}`, () => rm(this.file(type, name), { force: true }));
  }

  /** Temporary files of killed writers (call only under an exclusive lock: no writer of ours is active). */
  async removeStaged(_opts?: CallOptions): Promise<void> {
    const dirs = ["index", "keys", "locks", "snapshots", "data", ...(await readdir(path.join(this.root, "data")).catch(() => [] as string[])).map((d) => path.join("data", d)), ""];
    for (const dir of dirs) {
      const names = await readdir(path.join(this.root, dir)).catch(() => [] as string[]);
      for (const name of names) if (name.endsWith(".tmp")) await rm(path.join(this.root, dir, name), { force: true }).catch(() => {});
    }
  }

  async close(): Promise<void> {}
}

/** Writes every part, in batches of writev (thousands of small blobs would be a thread-pool round trip each). */
async function writeAll(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
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
 * A pack written while it fills. Appends queue up and one loop writes them in order (whatever queued meanwhile goes
 * in one writev); the file is created on the first write. The first failure stops the writing and is reported by
 * wait() and commit(); the temporary file is then removed by discard() (or by the next prune after a crash).
 */
class DirStagedFile implements StagedFile {
  private handle: FileHandle | undefined;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;
  private done = false;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly tmp: string,
    private readonly fs: <T>(what: string, step: () => Promise<T>) => Promise<T>,
    private readonly moveIntoPlace: (tmp: string, type: FileType, name: string) => Promise<void>,
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
        this.handle ??= await open(this.tmp, "wx", 0o600);
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

  async commit(type: FileType, name: string): Promise<void> {
    try {
      await this.wait(0);
      this.done = true;
      await this.fs(`storing ${repoPath(type, name)}`, async () => {
        this.handle ??= await open(this.tmp, "wx", 0o600);
        await this.handle.sync();
        await this.handle.close();
        this.handle = undefined;
        await this.moveIntoPlace(this.tmp, type, name);
      });
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
    await rm(this.tmp, { force: true }).catch(() => {});
  }
}
