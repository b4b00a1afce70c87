// The restore writer: turns a stream of snapshot entries (any storage format, see entry.ts) into files in a fresh
// folder (the staging folder restore-target.ts gives it) at the disk's pace, without ever writing outside it.
//
// Speed. A small file costs four system calls (create, write, times on the open descriptor, close), made
// synchronously: a thread-pool round trip per call costs more than the call itself, and one per file serialised 5,000
// files behind each other (the old extractor: ~15 awaited calls per file). Where the read runs a helper thread (the
// repository decoder's), they are made there in batches (file-writers.ts), so that creating files does not take the
// main thread's time; a file counts as restored once written. Large files are streamed with a few positional writes
// in flight, so the disk works while the next bytes are decoded. Folders are made first when the source lists them
// (see `folders`), and get their mode and times last, deepest first, once nothing is written into them any more.
// There is no temporary name and rename per file: the staging folder is the unit that becomes visible, and a failed
// restore discards all of it.
//
// Safety. The writer keeps its own picture of everything it created (the folder starts empty), so "does this path
// lead through a symlink or a file?" is a map lookup, not an lstat per parent: an entry below a symlink or a file
// written earlier in the same restore is refused, as are absolute paths, ".." segments, NUL, devices and fifos, and
// hard links to anything but a regular file restored earlier by this same run. Files are created with O_EXCL and
// O_NOFOLLOW, and a folder that already exists on disk when the picture says it should not (a case-insensitive file
// system folding two names into one) is checked with lstat, so the picture and the disk can never disagree
// silently. A refused entry is reported and the restore goes on; a failing source or disk stops it.
import {
  closeSync,
  fchmodSync,
  futimesSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  chmodSync,
  utimesSync,
} from "node:fs";
import fs from "node:fs";
import path from "node:path";
import type { Refusal, RestoreEntry, RestoreSource, Time } from "./entry.js";
import { toSeconds } from "./entry.js";
import { isRootItself, safeRelative } from "./safe-path.js";
import { freeHandedOver } from "../../util/release-buffer.js";
import { smallFileWriter, type SmallFileWriter } from "./file-writers.js";
import { CREATE, removeIfThere } from "./small-file.js";

export interface WriteOptions {
  /** The folder to fill (created when absent). It must be empty: the writer's picture of the disk starts empty. */
  target: string;
  /** Paths (cleaned, relative) to restore, e.g. from --path globs; others are skipped. */
  filter?: (rel: string) => boolean;
  /** Read and check everything, write nothing. */
  dryRun?: boolean;
  /** Keep setuid/setgid/sticky bits (off by default). */
  keepSpecialBits?: boolean;
  signal?: AbortSignal;
  /** Every entry that passed the path checks and the filter (a dry run lists them). */
  onEntry?: (rel: string, type: RestoreEntry["type"], size: number) => void;
  /** Called as files complete and large files advance; the stats object is live (copy what you keep). */
  onProgress?: (stats: Readonly<WriteStats>) => void;
  /**
   * Each file and symlink once it is in place (its bytes written, size checked, times set), with its cleaned relative
   * path: what the restore compares with the live locations without a walk of its own. Not called in a dry run.
   */
  onWritten?: (rel: string, entry: RestoreEntry) => void;
  /** Files up to this size are read whole and written in one go (default 256 KiB). */
  smallFileBytes?: number;
  /** Random-access sources: entries read and written at the same time (default 8). */
  concurrency?: number;
  /**
   * Folders of the snapshot (paths as entries carry them, unchecked) to create before any entry, as restic does: on
   * ext4 without a journal, files created between their folders' creations just after many files were deleted cost
   * 3x the kernel time (the inode allocator steps over recently freed inodes). Checked like entries; a folder that
   * cannot be made is left to its entry, which reports it.
   */
  folders?: readonly string[];
  /**
   * Makes the small files' writer when the first one comes (default: on this thread; a restore passes one on the
   * read's helper thread, see file-writers.ts); the writer closes it.
   */
  fileWriter?: () => SmallFileWriter;
}

export interface WriteStats {
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  /** File content bytes written (or, in a dry run, read). */
  bytes: number;
  /** Entries left out by the filter (and the root "." itself). */
  skipped: number;
  refused: Refusal[];
}

const SMALL_FILE_BYTES = 256 * 1024;
const CONCURRENCY = 8;
/** Positional writes of one large file in flight while the next chunk is decoded. */
const WRITES_IN_FLIGHT = 4;

/** Errors that concern one entry (its name, or what is in its way): refused and reported, the restore goes on. */
const ENTRY_ERRORS = new Set(["ENAMETOOLONG", "EISDIR", "ENOTDIR", "EEXIST", "ELOOP", "EILSEQ", "EINVAL"]);

class Refused extends Error {}

/** What the writer has created, by cleaned relative path. A "dir" only ever sits below "dir"s. */
type Kind = "dir" | "file" | "symlink";

/** The planned work for one entry. It holds a slot until it no longer reads from the source (see Slots). */
type Task = (slot: Slot) => Promise<void>;

interface Slot {
  /** The task is done with the source (a small file handed to the file writer); idempotent. */
  release(): void;
}

/**
 * Entries at work on the source at once. A small file gives its slot back once its bytes are with the file writer, so
 * the writer pulls further entries while that thread writes; a large file keeps its slot until it is written.
 */
class Slots {
  busy = 0;
  private waiting: (() => void) | undefined;

  take(): Slot {
    this.busy++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.busy--;
        const wake = this.waiting;
        this.waiting = undefined;
        wake?.();
      },
    };
  }

  /** Settles when a slot is given back (one waiter: the writer's loop). */
  freed(): Promise<void> {
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

interface DirMeta {
  mode: number;
  mtime?: Time;
  atime?: Time;
}

export async function writeEntries(source: RestoreSource, opts: WriteOptions): Promise<WriteStats> {
  const w = new Writer(opts);
  await w.run(source);
  return w.stats;
}

class Writer {
  readonly stats: WriteStats = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, bytes: 0, skipped: 0, refused: [] };
  private readonly target: string;
  private readonly nodes = new Map<string, Kind>([["", "dir"]]);
  private readonly dirMeta = new Map<string, DirMeta>();
  /** Work still running per path (random-access sources): a later entry of the same path waits for it. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  private readonly slots = new Slots();
  /** Made on the first small file (a dry run writes none), unless given. */
  private files: SmallFileWriter | undefined;
  private failure: { error: unknown } | undefined;
  private readonly small: number;
  private readonly specialBits: number;
  private readonly dryRun: boolean;
  /**
   * The umask when the restore started (undefined where it cannot be read without changing it). Read once: nothing
   * in this process changes it while a restore runs (the CLI never does; Node allows it on the main thread only).
   */
  private readonly umask: number | undefined;

  constructor(private readonly opts: WriteOptions) {
    this.target = path.resolve(opts.target);
    this.small = opts.smallFileBytes ?? SMALL_FILE_BYTES;
    this.specialBits = opts.keepSpecialBits ? 0o7777 : 0o777;
    this.dryRun = !!opts.dryRun;
    this.umask = readUmask();
  }

  async run(source: RestoreSource): Promise<void> {
    if (!this.opts.dryRun) {
      this.openTarget();
      this.makeFolders(this.opts.folders ?? []);
    }
    // A sequential source (a tar stream) needs an entry's content read before the next entry: one slot.
    const limit = source.sequential ? 1 : Math.max(1, this.opts.concurrency ?? CONCURRENCY);
    try {
      for await (const entry of source.entries) {
        this.opts.signal?.throwIfAborted();
        const task = this.plan(entry);
        if (!task) continue;
        const slot = this.slots.take();
        const p = task(slot)
          .catch((error: unknown) => void (this.failure ??= { error }))
          .finally(() => slot.release());
        this.running.add(p);
        void p.finally(() => this.running.delete(p));
        while (this.slots.busy >= limit) await this.slots.freed();
        if (this.failure) break;
      }
    } catch (error) {
      this.failure ??= { error };
    }
    // Every file written or failed before the folders get their metadata, or the caller discards the staging folder.
    await Promise.all(this.running);
    await this.files?.close();
    if (this.failure) throw this.failure.error;
    if (!this.opts.dryRun) this.applyDirMeta();
  }

  private openTarget(): void {
    mkdirSync(this.target, { recursive: true });
    const st = lstatSync(this.target);
    if (!st.isDirectory()) throw new Error(`restore target ${this.target} is not a folder`);
    if (readdirSync(this.target).length > 0) throw new Error(`restore target ${this.target} is not empty (the writer fills fresh folders only)`);
  }

  private makeFolders(folders: readonly string[]): void {
    for (const folder of folders) {
      const rel = safeRelative(folder).rel;
      if (rel === undefined || isRootItself(folder) || (this.opts.filter && !this.opts.filter(rel))) continue;
      try {
        this.ensureParents(rel);
        if (!this.nodes.has(rel)) this.makeDir(rel);
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
      }
    }
  }

  private refuse(p: string, reason: string): undefined {
    this.stats.refused.push({ path: p, reason });
    return undefined;
  }

  /** Checks an entry against the rules and the picture, in snapshot order; returns the work to do, if any. */
  private plan(entry: RestoreEntry): Task | undefined {
    if (isRootItself(entry.path)) {
      this.stats.skipped++;
      return undefined;
    }
    if (entry.refused !== undefined) return this.refuse(entry.path, entry.refused);
    const safe = safeRelative(entry.path);
    if (safe.rel === undefined) return this.refuse(entry.path, safe.reason);
    const rel = safe.rel;
    if (this.opts.filter && !this.opts.filter(rel)) {
      this.stats.skipped++;
      return undefined;
    }
    this.opts.onEntry?.(rel, entry.type, entry.size);
    if (entry.type === "other") return this.refuse(entry.path, `${entry.kind ?? "special file"} entries are not restored`);
    try {
      this.ensureParents(rel);
    } catch (err) {
      if (err instanceof Refused) return this.refuse(entry.path, err.message);
      throw err;
    }
    const existing = this.nodes.get(rel);
    switch (entry.type) {
      case "dir":
        return this.planDir(entry, rel, existing);
      case "file":
        if (existing === "dir") return this.refuse(entry.path, "a folder already exists at this path");
        this.nodes.set(rel, "file");
        if (this.dryRun) return this.count(entry);
        return this.serialise(rel, (slot) => this.writeFile(entry, rel, existing !== undefined, slot));
      case "symlink":
        if (existing === "dir") return this.refuse(entry.path, "a folder already exists at this path");
        this.nodes.set(rel, "symlink");
        if (this.dryRun) return this.count(entry);
        return this.serialise(rel, async () => this.writeSymlink(entry, rel, existing !== undefined));
      case "hardlink":
        return this.planHardlink(entry, rel, existing);
    }
  }

  /** A dry run checks every entry against the same picture, but reads no content (the source skips it). */
  private count(entry: RestoreEntry): undefined {
    if (entry.type === "dir") this.stats.dirs++;
    else if (entry.type === "symlink") this.stats.symlinks++;
    else if (entry.type === "hardlink") this.stats.hardlinks++;
    else {
      this.stats.files++;
      this.stats.bytes += entry.size;
    }
    return undefined;
  }

  private planDir(entry: RestoreEntry, rel: string, existing: Kind | undefined): undefined {
    if (existing !== undefined && existing !== "dir") return this.refuse(entry.path, "a file or symlink of this path came earlier in the snapshot");
    try {
      if (existing === undefined) this.makeDir(rel);
    } catch (err) {
      if (err instanceof Refused) return this.refuse(entry.path, err.message);
      throw err;
    }
    if (!this.dirMeta.has(rel)) this.stats.dirs++;
    this.dirMeta.set(rel, { mode: entry.mode & this.specialBits, mtime: entry.mtime, atime: entry.atime });
    return undefined;
  }

  private planHardlink(entry: RestoreEntry, rel: string, existing: Kind | undefined): Task | undefined {
    const to = entry.linkTarget === undefined ? undefined : safeRelative(entry.linkTarget);
    if (!to?.rel) return this.refuse(entry.path, `hard link to ${entry.linkTarget ?? "nothing"}: not a file of this restore`);
    if (this.nodes.get(to.rel) !== "file") return this.refuse(entry.path, `hard link to ${entry.linkTarget}: not a file restored earlier by this restore`);
    if (existing === "dir") return this.refuse(entry.path, "a folder already exists at this path");
    if (to.rel === rel) return undefined; // a link to itself: the file is already there
    this.nodes.set(rel, "file");
    if (this.dryRun) return this.count(entry);
    const target = to.rel;
    return (slot) => {
      // The link waits for its target's file, and later work on the target waits for the link.
      const targetWritten = this.pending.get(target);
      const p = this.serialise(rel, async () => {
        await targetWritten;
        this.link(entry, rel, target, existing !== undefined);
      })(slot);
      this.track(target, p);
      return p;
    };
  }

  /**
   * Runs work for a path after earlier work on the same path has finished (random-access sources overlap, and a small
   * file is written after its slot is given back).
   */
  private serialise(rel: string, work: Task): Task {
    return (slot) => {
      const before = this.pending.get(rel);
      const p = before ? before.then(() => work(slot)) : work(slot);
      this.track(rel, p);
      return p;
    };
  }

  private track(rel: string, p: Promise<void>): void {
    const settled = p.catch(() => {});
    this.pending.set(rel, settled);
    void settled.then(() => {
      if (this.pending.get(rel) === settled) this.pending.delete(rel);
    });
  }

  private abs(rel: string): string {
    return `${this.target}/${rel}`;
  }


  /** Every parent of rel is a folder this restore made (or makes now); anything else in the way refuses the entry. */
  private ensureParents(rel: string): void {
    const slash = rel.lastIndexOf("/");
    if (slash < 0) return;
    const parent = rel.slice(0, slash);
    const kind = this.nodes.get(parent);
    if (kind === "dir") return; // a "dir" only ever sits below "dir"s
    if (kind !== undefined) throw new Refused(kind === "symlink" ? "path leads through a symlink" : "path leads through a file");
    this.ensureParents(parent);
    this.makeDir(parent);
  }

  private makeDir(rel: string): void {
    if (this.dryRun) return void this.nodes.set(rel, "dir");
    try {
      mkdirSync(this.abs(rel));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") {
        if (code && ENTRY_ERRORS.has(code)) throw new Refused(`cannot create the folder (${code})`);
        throw err;
      }
      // Not in the picture but on disk: a name the file system folds into one written earlier.
      if (!lstatSync(this.abs(rel)).isDirectory()) throw new Refused("path leads through a symlink or a file of another name");
    }
    this.nodes.set(rel, "dir");
  }

  private onEntryError(entry: RestoreEntry, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof Refused) this.refuse(entry.path, err.message);
    else if (code && ENTRY_ERRORS.has(code) && (err as { syscall?: string }).syscall) this.refuse(entry.path, `cannot be written here (${code})`);
    else throw err;
  }

  private async writeFile(entry: RestoreEntry, rel: string, replace: boolean, slot: Slot): Promise<void> {
    const dest = this.abs(rel);
    const mode = entry.mode & this.specialBits;
    if (entry.size <= this.small) {
      const data = await readWhole(entry, rel);
      const length = data.length;
      let written: Promise<void>;
      try {
        if (replace) removeIfThere(dest);
        const files = (this.files ??= (this.opts.fileWriter ?? smallFileWriter)());
        await files.room();
        const times = entry.mtime ? { mtime: toSeconds(entry.mtime), atime: toSeconds(entry.atime ?? entry.mtime) } : {};
        written = files.write({ dest, mode, atCreate: createsWhole(mode, this.umask), ...times }, data);
      } catch (err) {
        this.nodes.delete(rel);
        return this.onEntryError(entry, err);
      } finally {
        freeHandedOver(data); // copied (or written) by the file writer
      }
      slot.release();
      try {
        await written;
      } catch (err) {
        this.nodes.delete(rel);
        return this.onEntryError(entry, err);
      }
      this.stats.bytes += length;
    } else {
      let fd: number;
      try {
        if (replace) removeIfThere(dest);
        fd = openSync(dest, CREATE, 0o600);
      } catch (err) {
        this.nodes.delete(rel);
        return this.onEntryError(entry, err);
      }
      await this.streamLarge(fd, dest, entry, rel, mode);
    }
    this.stats.files++;
    this.opts.onWritten?.(rel, entry);
    this.opts.onProgress?.(this.stats);
  }

  private async streamLarge(fd: number, dest: string, entry: RestoreEntry, rel: string, mode: number): Promise<void> {
    const inFlight: Promise<void>[] = [];
    let position = 0;
    try {
      for await (const chunk of entry.content ?? []) {
        if (position + chunk.length > entry.size) throw tooLong(rel, entry.size);
        const length = chunk.length;
        const written = pwrite(fd, chunk, position).then(() => freeHandedOver(chunk));
        written.catch(() => {}); // awaited below; a failure must not surface as unhandled before that
        inFlight.push(written);
        position += length;
        if (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
        this.stats.bytes += length;
        this.opts.onProgress?.(this.stats);
      }
      await Promise.all(inFlight.splice(0));
      if (position !== entry.size) throw tooShort(rel, position, entry.size);
      fchmodSync(fd, mode);
      setTimes(fd, entry);
    } catch (err) {
      await Promise.allSettled(inFlight);
      closeSync(fd);
      removeIfThere(dest);
      throw err;
    }
    closeSync(fd);
  }

  private writeSymlink(entry: RestoreEntry, rel: string, replace: boolean): void {
    const dest = this.abs(rel);
    try {
      if (replace) removeIfThere(dest);
      symlinkSync(entry.linkTarget ?? "", dest);
    } catch (err) {
      this.nodes.delete(rel);
      return this.onEntryError(entry, err);
    }
    if (entry.mtime) {
      try {
        lutimesSync(dest, toSeconds(entry.atime ?? entry.mtime), toSeconds(entry.mtime));
      } catch {
        // Some file systems keep no times for symlinks: the link itself is what matters.
      }
    }
    this.stats.symlinks++;
    this.opts.onWritten?.(rel, entry);
  }

  private link(entry: RestoreEntry, rel: string, target: string, replace: boolean): void {
    const dest = this.abs(rel);
    try {
      if (replace) removeIfThere(dest);
      linkSync(this.abs(target), dest);
    } catch (err) {
      this.nodes.delete(rel);
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return void this.refuse(entry.path, `hard link to ${entry.linkTarget}: its file was not restored`);
      return this.onEntryError(entry, err);
    }
    this.stats.hardlinks++;
    this.opts.onProgress?.(this.stats);
  }

  /** Folder modes and times once their contents are in place, deepest first (a read-only folder is made last). */
  private applyDirMeta(): void {
    const depth = (rel: string) => rel.split("/").length;
    const dirs = [...this.dirMeta].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, meta] of dirs) {
      const dest = this.abs(rel);
      try {
        chmodSync(dest, meta.mode);
        if (meta.mtime) utimesSync(dest, toSeconds(meta.atime ?? meta.mtime), toSeconds(meta.mtime));
      } catch {
        // As before: a folder's mode or time that cannot be set does not fail a restore whose files are all there.
      }
    }
  }
}

const tooLong = (rel: string, size: number) => new Error(`${rel}: the snapshot holds more content than its ${size} bytes`);
const tooShort = (rel: string, got: number, size: number) => new Error(`${rel}: the snapshot ended inside this file (${got} of ${size} bytes)`);

/** A small file's whole content (usually one chunk, handed over without a copy). */
async function readWhole(entry: RestoreEntry, rel: string): Promise<Buffer> {
  if (entry.size === 0 && !entry.content) return EMPTY;
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of entry.content ?? []) {
    length += chunk.length;
    if (length > entry.size) throw tooLong(rel, entry.size);
    parts.push(chunk);
  }
  if (length !== entry.size) throw tooShort(rel, length, entry.size);
  if (parts.length === 1) return parts[0]!;
  const whole = Buffer.concat(parts, length);
  for (const part of parts) freeHandedOver(part);
  return whole;
}

const EMPTY = Buffer.alloc(0);

/** This process's umask from /proc, without changing it (process.umask() with no argument is deprecated). */
function readUmask(): number | undefined {
  try {
    const m = /^Umask:\s+([0-7]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? parseInt(m[1]!, 8) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether creating a file with `mode` yields exactly `mode` (no set-ID or sticky bit, nothing the umask removes). */
export function createsWhole(mode: number, umask: number | undefined): boolean {
  return umask !== undefined && (mode & 0o7000) === 0 && (mode & umask) === 0;
}

function setTimes(fd: number, entry: RestoreEntry): void {
  if (entry.mtime) futimesSync(fd, toSeconds(entry.atime ?? entry.mtime), toSeconds(entry.mtime));
}

function pwrite(fd: number, chunk: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) =>
      fs.write(fd, chunk, off, chunk.length - off, position + off, (err, n) => {
        if (err) return reject(err);
        if (off + n < chunk.length) return step(off + n);
        resolve();
      });
    step(0);
  });
}
