// The archiver: turns the backup's entry stream (walk order: a folder, then its children) into restic trees and data
// blobs in a Repository — what restic's internal/archiver does for `restic backup`.
//
// - Trees mirror the snapshot paths ("workspace/notes/a.md"): folders the walk does not visit themselves (the root,
//   "state" above "state/cron") are made here, from the live folder when there is one. A folder's tree is written when
//   the walk leaves it, so memory holds only the open folders, never the whole snapshot.
// - Nodes are restic's own (fs-node.ts): the same file gives the same node bytes, the same chunks (the repository's
//   polynomial) and so the same blob IDs as restic's backup.
// - Incremental: a file whose type, size, mtime, ctime and inode equal its node in the parent snapshot, and whose
//   blobs the index still has, is not read again (restic's `changed` test); its content list comes from the parent.
//   With the parent's folder records (folder-records.ts) a folder whose children's node keys digest to its record
//   keeps the recorded tree, and the parent's tree for it is not even read.
// - A file that vanished or cannot be read is skipped with a warning (as restic does); one that shrank or grew while
//   being read is stored with the bytes read and its node says so (size = what was stored), never padded.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { gcPacer } from "../../gc-pacer.js";
import { entryStatsOf, isFolder, isRegularFile, isSymlink, type WalkEntry } from "../../tree-walk.js";
import { ChunkReader } from "./chunker/index.js";
import { type BlobEncoder, inlineEncoder, workerEncoder } from "./encode-pool.js";
import { AccountNames, nodeFromStats, nodeFromStatsSync } from "./fs-node.js";
import { type GoTime, goTimeFromNs } from "./go-time.js";
import { createHash } from "node:crypto";
import type { FolderRecord, FolderRecords } from "./folder-records.js";
import { hashId, type Id } from "./ids.js";
import { releaseEncodeMemory } from "./pack.js";
import { GoMode, type Node, nodeKey, sameNode } from "./node.js";
import type { Repository } from "./repository.js";
import { decodeTree, encodeTree, findNode, sortNodes, treeId } from "./tree.js";

/** What a file read counts for the collector's pacing beyond its bytes (see Archiver.paceMinor). */
export const PACED_FILE_BYTES = 8 << 10;
/** Bytes of chunks the repository already has count this many times less toward a full collection (see Archiver.paceMajor). */
const KNOWN_BYTES_WEIGHT = 4;

export interface ArchiveOptions {
  entries: AsyncIterable<WalkEntry>;
  /** Root tree of the parent snapshot: unchanged files take their content from it. */
  parentTree?: Id;
  /**
   * The parent snapshot's folder records (folder-records.ts): a folder whose children's digest equals its record
   * keeps the recorded tree, and the parent's tree for it is never read.
   */
  parentFolders?: FolderRecords;
  /** The live folder behind a snapshot folder the walk does not visit itself (for its node's metadata). */
  liveDirFor?: (snapshotPath: string) => string | undefined;
  signal?: AbortSignal;
  /** Bytes of file content and files processed so far (read or taken from the parent). */
  onProgress?: (bytes: number, files: number) => void;
  warn?: (message: string) => void;
  names?: AccountNames;
  /** For tests: read each file even when the parent has it unchanged. */
  force?: boolean;
  /** Encode data blobs on a worker thread (default true; false: on the calling thread). */
  encodeOnWorker?: boolean;
}

export interface ArchiveStats {
  files: number;
  dirs: number;
  symlinks: number;
  /** Bytes of file content in the snapshot. */
  bytes: number;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  dirsNew: number;
  dirsChanged: number;
  dirsUnmodified: number;
  /** Blobs this run added to the repository. */
  dataBlobs: number;
  treeBlobs: number;
  /** Plaintext bytes of the blobs added; and what they occupy in packs (compressed, encrypted). */
  dataAdded: number;
  dataAddedPacked: number;
  /** Bytes actually read from files (unchanged files are not read). */
  bytesRead: number;
  /** Entries skipped with a warning (vanished, unreadable). */
  skipped: number;
}

export interface ArchiveResult {
  tree: Id;
  stats: ArchiveStats;
  /** This snapshot's folder records, for the next run (every folder the walk visited). */
  folders: Map<string, FolderRecord>;
}

interface Frame {
  /** Snapshot path of the folder ("" = the root). */
  path: string;
  /** The folder's own node (undefined for the root). */
  node: Node | undefined;
  children: Node[];
  /** The same folder in the parent snapshot: its nodes, loaded on first use. */
  previous: (() => Promise<Node[] | undefined>) | undefined;
  /** The parent snapshot's subtree ID of this folder (to count it unchanged). */
  previousTree: Id | undefined;
  /** `previous`'s nodes once loaded (undefined before, or when the parent's tree cannot be read). */
  previousNodes?: Node[] | undefined;
  /** Not visited by the walk (a folder above the items): a later item may enter it again. */
  madeUp: boolean;
  /** Node keys of the children so far, in the walk's order: the folder's digest. */
  keys: string[];
  /** False once a child was skipped, stored differently from its lstat, or has no key: no digest is recorded. */
  clean: boolean;
  /** The parent snapshot's record of this folder, when the folder may still equal it (with `held`). */
  record?: FolderRecord;
  /**
   * Files held back while the folder may equal its record: their nodes from lstat, no content yet. At the close
   * the digest decides: the recorded tree, or the parent's tree read and each file taken or read as usual.
   */
  held?: { file: string; node: Node; size: number }[];
}

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
const parentOf = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
const baseOf = (p: string) => p.slice(p.lastIndexOf("/") + 1);
const isWithin = (p: string, dir: string) => dir === "" || p === dir || p.startsWith(`${dir}/`);

/** restic's archiver `changed` test (0.14: mtime, ctime, size, inode, and the type). */
export function fileChanged(previous: Node, current: Node): boolean {
  return (
    previous.type !== "file" ||
    (previous.size ?? 0n) !== (current.size ?? 0n) ||
    !sameInstant(previous.mtime, current.mtime) ||
    !sameInstant(previous.ctime, current.ctime) ||
    (previous.inode ?? 0n) !== (current.inode ?? 0n)
  );
}

/** Equal instants whatever the zone (both are normalized: nsec within 0..999999999). */
const sameInstant = (a: GoTime, b: GoTime) => a.sec === b.sec && a.nsec === b.nsec;

export async function archiveEntries(repo: Repository, opts: ArchiveOptions): Promise<ArchiveResult> {
  return new Archiver(repo, opts).run();
}

class Archiver {
  private readonly stats: ArchiveStats = {
    files: 0,
    dirs: 0,
    symlinks: 0,
    bytes: 0,
    filesNew: 0,
    filesChanged: 0,
    filesUnmodified: 0,
    dirsNew: 0,
    dirsChanged: 0,
    dirsUnmodified: 0,
    dataBlobs: 0,
    treeBlobs: 0,
    dataAdded: 0,
    dataAddedPacked: 0,
    bytesRead: 0,
    skipped: 0,
  };
  private readonly stack: Frame[] = [];
  /** Children of folders the walk may enter twice (made-up folders above several items), kept when they close. */
  private readonly closedMadeUp = new Map<string, Node[]>();
  private readonly names: AccountNames;
  /** Made on the first file that is read: an unchanged run never builds the chunker's tables. */
  private chunkReader: ChunkReader | undefined;
  private readonly warn: (m: string) => void;
  /**
   * Every blob leaves a few short-lived buffers (compressed, sealed) outside V8's heap: collect them as we go. Each
   * file also leaves garbage on the heap (its node, names, promises) that its bytes do not count, so a file counts
   * PACED_FILE_BYTES more: through 5,000 small files a first 257 MB backup over sftp otherwise let ~17 MiB of heap
   * garbage pile up before its end (peak RSS 149–150 → 137–141 MiB, same time: docs/performance.md).
   * A chunk the repository has already is a view of the chunker's memory, hashed and let go: it leaves no buffer
   * behind, only a little on the heap (its ID, promises). Minor collections count every byte read; full ones count
   * such bytes a quarter. A backup of 1 GiB whose files were all touched (read again, every chunk known): 24 → 10
   * full collections, 0.50–0.58 → 0.31–0.36 s of collection. Counting no known bytes at all let the peak RSS of a
   * 10 GiB backup of deduplicating copies rise to 143–148 MiB (131–140 with a quarter). docs/performance.md
   */
  private readonly paceMinor = gcPacer(8 << 20, Infinity);
  private readonly paceMajor = gcPacer(48 << 20, 48 << 20);
  /** Bytes of the chunks handed to the encoder. */
  private bytesEncoded = 0;
  /** Started on the first new chunk: an unchanged run never starts the worker. */
  private encoderCache: BlobEncoder | undefined;
  /** Data blobs being encoded: bounded, so memory holds at most a few chunks beyond the open packs. */
  private readonly encoding = new Set<Promise<void>>();
  private encodingBytes = 0;
  private encodeFailure: Error | undefined;

  constructor(
    private readonly repo: Repository,
    private readonly opts: ArchiveOptions,
  ) {
    this.names = opts.names ?? new AccountNames();
    this.warn = opts.warn ?? (() => {});
  }

  async run(): Promise<ArchiveResult> {
    try {
      return await this.archive();
    } finally {
      await Promise.allSettled([...this.encoding]);
      this.encoderCache?.close();
      releaseEncodeMemory();
    }
  }

  private async archive(): Promise<ArchiveResult> {
    const rootPrevious = this.opts.parentTree;
    this.pushFrame({ path: "", node: undefined, children: [], previousTree: rootPrevious, madeUp: true, keys: [], clean: true });
    await this.names.load();
    for await (const entry of this.opts.entries) {
      this.opts.signal?.throwIfAborted();
      // Most entries of an incremental run are unchanged files in the open folder: taken without an await.
      if (entry.type !== "file" || !this.addUnchanged(entry)) await this.add(entry);
    }
    while (this.stack.length > 1) await this.close();
    await this.encoded();
    const root = this.stack.pop()!;
    const tree = this.unchangedTree(root) ?? (await this.saveTree(root));
    return { tree, stats: this.stats, folders: this.folders };
  }

  /** Records of the folders closed so far. */
  private readonly folders = new Map<string, FolderRecord>();

  private async loadTree(id: Id): Promise<Node[] | undefined> {
    try {
      return decodeTree(await this.repo.loadBlob("tree", id, this.call()));
    } catch (err) {
      if (this.opts.signal?.aborted) throw err;
      // A parent tree that cannot be read only costs speed: everything below it is read again.
      this.warn(`the parent snapshot's tree ${id.slice(0, 8)} cannot be read (${(err as Error).message}): reading those files again`);
      return undefined;
    }
  }

  private call() {
    return this.opts.signal ? { signal: this.opts.signal } : {};
  }

  private get top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private async add(entry: WalkEntry): Promise<void> {
    const dir = parentOf(entry.archivePath);
    while (!isWithin(dir, this.top.path)) await this.close();
    // Open the folders between the innermost open one and the entry's folder (made up: the walk does not visit them).
    while (this.top.path !== dir) {
      const rest = this.top.path === "" ? dir : dir.slice(this.top.path.length + 1);
      const next = this.top.path === "" ? rest.split("/")[0]! : `${this.top.path}/${rest.split("/")[0]!}`;
      await this.openFolder(next, await this.madeUpNode(next), true);
    }
    const name = utf8(baseOf(entry.archivePath));
    if (entry.type === "dir") {
      const st = entry.stats ?? entryStatsOf(entry.absPath);
      const node = st && isFolder(st) ? await nodeFromStats(name, st, undefined, { names: this.names }) : await this.madeUpNode(entry.archivePath);
      await this.openFolder(entry.archivePath, node, false);
      return;
    }
    if (entry.type === "symlink") {
      const st = entry.stats ?? entryStatsOf(entry.absPath);
      if (!st || !isSymlink(st)) return this.skip(`skipped ${entry.absPath}: it changed while the backup ran`);
      const node = await nodeFromStats(name, st, utf8(entry.linkTarget ?? ""), { names: this.names });
      this.top.children.push(node);
      this.keyed(this.top, node);
      this.stats.symlinks++;
      return;
    }
    await this.addFile(entry, name);
  }

  /** Counts a child into its folder's digest. */
  private keyed(frame: Frame, node: Node): void {
    const key = nodeKey(node);
    if (key === undefined) frame.clean = false;
    else frame.keys.push(key);
  }

  private skip(message: string): void {
    this.stats.skipped++;
    this.top.clean = false;
    this.warn(message);
  }

  /** The node of a folder the walk does not visit: from the live folder when there is one, else made up. */
  private async madeUpNode(snapshotPath: string): Promise<Node> {
    const name = utf8(baseOf(snapshotPath));
    const live = this.opts.liveDirFor?.(snapshotPath);
    const st = live ? entryStatsOf(live) : undefined;
    if (st && isFolder(st)) return nodeFromStats(name, st, undefined, { names: this.names });
    // A fixed time, not the run's: an unchanged snapshot then has the same tree IDs as its parent.
    const t = goTimeFromNs(0n);
    return { name, type: "dir", mode: (GoMode.dir | 0o755) >>> 0, mtime: t, atime: t, ctime: t, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, content: null };
  }

  private async openFolder(snapshotPath: string, node: Node, madeUp: boolean): Promise<void> {
    const parent = this.top;
    // A made-up folder the walk comes back to (state/a, workspace, state/b): continue its earlier children.
    const earlier = this.closedMadeUp.get(snapshotPath);
    if (earlier) {
      this.closedMadeUp.delete(snapshotPath);
      const at = parent.children.findIndex((c) => Buffer.compare(c.name, node.name) === 0);
      if (at >= 0) parent.children.splice(at, 1);
    }
    // A parent that may still equal its record has not read its parent-snapshot tree: the record names the subtree.
    const recorded = parent.held ? this.opts.parentFolders?.get(snapshotPath)?.tree : undefined;
    const previousNode = !parent.held && parent.previous ? findNode((await parent.previous()) ?? [], node.name) : undefined;
    const previousTree = parent.held ? recorded : previousNode?.type === "dir" && previousNode.subtree ? previousNode.subtree : undefined;
    this.pushFrame({ path: snapshotPath, node, children: earlier ?? [], previousTree, madeUp, keys: [], clean: true });
  }

  /** Opens a folder; its parent-snapshot tree is loaded on first use and kept on the frame. */
  private pushFrame(frame: Omit<Frame, "previous">): void {
    const id = frame.previousTree;
    const opened: Frame = { ...frame, previous: undefined };
    if (id) opened.previous = lazy(async () => (opened.previousNodes = await this.loadTree(id)));
    // A folder the parent snapshot recorded with this very tree: its files wait for the digest (see Frame.held).
    const record = id && !frame.madeUp && !this.opts.force ? this.opts.parentFolders?.get(frame.path) : undefined;
    if (record?.digest && record.tree === id) {
      opened.record = record;
      opened.held = [];
    }
    this.stack.push(opened);
  }

  /**
   * The parent's tree ID when the folder's nodes equal the parent tree's, node for node: its encoding would give the
   * parent's bytes again (for an unchanged folder, the common case, this skips encoding and hashing its tree). Any
   * difference, or a parent tree not loaded or no longer indexed, leaves it to saveTree.
   */
  private unchangedTree(frame: Frame): Id | undefined {
    const before = frame.previousNodes;
    if (!before || !frame.previousTree || before.length !== frame.children.length || this.opts.force) return undefined;
    const now = sortNodes(frame.children);
    for (let i = 0; i < now.length; i++) if (!sameNode(now[i]!, before[i]!)) return undefined;
    return this.repo.hasBlob("tree", frame.previousTree) ? frame.previousTree : undefined;
  }

  private async close(): Promise<void> {
    const frame = this.top;
    const digest = frame.clean ? createHash("sha256").update(frame.keys.join("\n")).digest("hex") : undefined;
    let id: Id | undefined;
    if (frame.held) {
      if (digest !== undefined && digest === frame.record!.digest && this.repo.hasBlob("tree", frame.record!.tree)) {
        id = frame.record!.tree;
        for (const h of frame.held) this.countUnchanged(h.size);
      } else {
        await this.takeHeld(frame);
      }
    }
    this.stack.pop();
    id ??= this.unchangedTree(frame) ?? (await this.saveTree(frame));
    if (!frame.madeUp) this.folders.set(frame.path, digest !== undefined && frame.clean ? { tree: id, digest } : { tree: id });
    const node = { ...frame.node!, subtree: id };
    this.top.children.push(node);
    this.keyed(this.top, node);
    this.stats.dirs++;
    if (!frame.previousTree) this.stats.dirsNew++;
    else if (frame.previousTree === id) this.stats.dirsUnmodified++;
    else this.stats.dirsChanged++;
    // Only folders above the items are remembered (a handful): the walk hands out a visited folder whole.
    if (frame.madeUp) this.closedMadeUp.set(frame.path, frame.children);
  }

  private async saveTree(frame: Frame): Promise<Id> {
    const bytes = encodeTree(frame.children);
    const id = treeId(bytes);
    const r = await this.repo.saveBlob("tree", bytes, id, this.call());
    if (!r.known) {
      this.stats.treeBlobs++;
      this.stats.dataAdded += bytes.length;
      this.stats.dataAddedPacked += r.storedBytes;
    }
    return id;
  }

  /**
   * An unchanged file of the innermost open folder whose parent tree is loaded: its node takes the parent's content.
   * False when anything else applies (another folder, no parent node, changed, a blob gone): `add` decides then.
   */
  private addUnchanged(entry: WalkEntry): boolean {
    const frame = this.top;
    const before = frame.previousNodes;
    if ((!before && !frame.held) || parentOf(entry.archivePath) !== frame.path) return false;
    const st = entry.stats;
    if (!st || !isRegularFile(st)) return false;
    const name = utf8(baseOf(entry.archivePath));
    const node = nodeFromStatsSync(name, st, undefined, this.names);
    if (frame.held) {
      this.keyed(frame, node);
      frame.held.push({ file: entry.absPath, node, size: st.size });
      return true;
    }
    const previous = findNode(before!, name);
    if (previous === undefined || !this.takeUnchanged(previous, node, st.size)) return false;
    this.keyed(frame, node);
    return true;
  }

  /** The folder differs from its record: its parent-snapshot tree is read and each held file taken or read. */
  private async takeHeld(frame: Frame): Promise<void> {
    const held = frame.held!;
    frame.held = undefined;
    const before = (await frame.previous?.()) ?? [];
    for (const { file, node, size } of held) {
      const previous = findNode(before, node.name);
      if (previous && this.takeUnchanged(previous, node, size)) continue;
      await this.readInto(file, node, size, previous);
    }
  }

  /**
   * Takes a file from the parent snapshot when restic's `changed` test finds nothing and the index still has its
   * blobs: its node gets the parent's content list. False when it must be read.
   */
  private takeUnchanged(previous: Node, node: Node, size: number): boolean {
    if (this.opts.force || !previous.content || fileChanged(previous, node) || !previous.content.every((id) => this.repo.hasBlob("data", id))) return false;
    node.content = previous.content;
    // The parent's node itself when nothing differs: the new one dies young, where a folder's worth of new nodes
    // would outlive the collector's young generation and be copied twice on their way to the old one.
    this.top.children.push(sameNode(node, previous) ? previous : node);
    this.countUnchanged(size);
    return true;
  }

  private countUnchanged(size: number): void {
    this.stats.files++;
    this.stats.filesUnmodified++;
    this.stats.bytes += size;
    this.progress(size);
  }

  private async addFile(entry: WalkEntry, name: Uint8Array): Promise<void> {
    const st = entry.stats ?? entryStatsOf(entry.absPath);
    if (!st) return this.skip(`skipped ${entry.absPath}: it vanished while the backup ran`);
    if (!isRegularFile(st)) return this.skip(`skipped ${entry.absPath}: it is no longer a regular file`);
    const node = nodeFromStatsSync(name, st, undefined, this.names);
    this.keyed(this.top, node);
    // A folder holding files for its record: this one joins them (the digest decides for all at the close).
    if (this.top.held) return void this.top.held.push({ file: entry.absPath, node, size: st.size });
    const previous = this.top.previous ? findNode((await this.top.previous()) ?? [], name) : undefined;
    const size = st.size;
    if (previous && this.takeUnchanged(previous, node, size)) return;
    await this.readInto(entry.absPath, node, size, previous);
  }

  /** Reads a new or changed file into the open folder (its node is made from lstat; content and size from the read). */
  private async readInto(file: string, node: Node, size: number, previous: Node | undefined): Promise<void> {
    let content: Id[];
    let read: number;
    try {
      ({ content, read } = await this.readFile(file, size));
    } catch (err) {
      if (this.opts.signal?.aborted || !isFileError(err)) throw err;
      return this.skip(`skipped ${file}: ${(err as Error).message}`);
    }
    if (read !== size) {
      this.top.clean = false; // its node differs from lstat's: the next run must compare it, not the digest
      this.warn(`${file} changed size while it was read (${size} → ${read} bytes): stored as read`);
      if (read === 0) delete node.size;
      else node.size = BigInt(read);
    }
    node.content = content;
    this.top.children.push(node);
    this.stats.files++;
    if (previous?.type === "file") this.stats.filesChanged++;
    else this.stats.filesNew++;
    this.stats.bytes += read;
  }

  private bytesDone = 0;
  private filesDone = 0;
  private progress(bytes: number, file = true): void {
    this.bytesDone += bytes;
    if (file) this.filesDone++;
    this.opts.onProgress?.(this.bytesDone, this.filesDone);
  }

  /** Hands a new chunk to the encoder (it copies what it keeps: the reader reuses the buffer); waits while many are out. */
  private async encode(id: Id, chunk: Uint8Array): Promise<void> {
    if (this.encodeFailure) throw this.encodeFailure;
    const { compress, level } = this.repo.encoding("data");
    const length = chunk.length;
    this.bytesEncoded += length;
    this.encoderCache ??= this.opts.encodeOnWorker === false ? inlineEncoder(this.repo.key) : workerEncoder(this.repo.key, undefined, undefined, this.repo.created);
    const job: Promise<void> = this.encoderCache
      .encode(chunk, compress, level)
      .then((e) => this.repo.saveEncoded("data", id, e.sealed, e.uncompressedLength, this.call()))
      .then(
        (r) => {
          this.stats.dataBlobs++;
          this.stats.dataAdded += length;
          this.stats.dataAddedPacked += r.storedBytes;
        },
        (err: Error) => void (this.encodeFailure ??= err),
      );
    this.encoding.add(job);
    this.encodingBytes += length;
    void job.finally(() => {
      this.encoding.delete(job);
      this.encodingBytes -= length;
    });
    while (this.encoding.size >= ENCODES_IN_FLIGHT && this.encodingBytes >= ENCODING_BYTES) await Promise.race(this.encoding);
    if (this.encodeFailure) throw this.encodeFailure;
  }

  /** Every chunk handed to the encoder is in a pack buffer (or the first failure is thrown). */
  private async encoded(): Promise<void> {
    while (this.encoding.size > 0) await Promise.all([...this.encoding]);
    if (this.encodeFailure) throw this.encodeFailure;
  }

  private lastBreath = Date.now();
  /** Lets timers and I/O callbacks run (lock refresh, progress, a host's other work) after ~20 ms of busy work. */
  private async breathe(): Promise<void> {
    if (Date.now() - this.lastBreath < 20) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastBreath = Date.now();
  }

  /** Chunks a file (at most `size` bytes: what lstat said) and stores the blobs the repository lacks. */
  private async readFile(file: string, size: number): Promise<{ content: Id[]; read: number }> {
    const content: Id[] = [];
    let read = 0;
    // Synchronous open/read/close: an awaited call per step was a thread-pool round trip each, most of the main
    // thread's idle time on thousands of small files; the worker keeps encoding meanwhile. The loop below yields to
    // the event loop every few milliseconds, so a gateway hosting the backup stays responsive.
    // O_NOFOLLOW|O_NONBLOCK: a file replaced by a symlink or a FIFO since lstat is neither followed nor waited on.
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFile()) throw Object.assign(new Error("no longer a regular file"), { code: "ENXIO" });
      const reader = async (into: Uint8Array) => readSync(fd, into, 0, into.length, null);
      // At most the size lstat gave: a file growing meanwhile is cut there (the node's size and its content agree).
      this.chunkReader ??= new ChunkReader(this.repo.config.chunkerPolynomial);
      for await (const chunk of this.chunkReader.chunks(reader, size)) {
        this.opts.signal?.throwIfAborted();
        const id = hashId(chunk);
        content.push(id);
        if (this.repo.claimBlob("data", id)) await this.encode(id, chunk);
        read += chunk.length;
        this.stats.bytesRead += chunk.length;
        // Files read, not files taken from the parent: an incremental run's first change must not look like a jump.
        const perFile = (this.stats.filesNew + this.stats.filesChanged) * PACED_FILE_BYTES;
        this.paceMinor(this.stats.bytesRead + perFile);
        this.paceMajor(this.bytesEncoded + perFile + (this.stats.bytesRead - this.bytesEncoded) / KNOWN_BYTES_WEIGHT);
        this.progress(chunk.length, false);
        await this.breathe();
      }
    } finally {
      try {
        closeSync(fd);
      } catch {
        // closing a file we only read cannot lose anything
      }
    }
    this.filesDone++;
    this.opts.onProgress?.(this.bytesDone, this.filesDone);
    return { content, read };
  }
}

/**
 * Chunks being encoded at once: at least two (each at most 8 MiB, ~1 MiB on average), and small ones up to 1 MiB
 * together (they travel to the encoder's thread in batches, encode-pool.ts).
 */
const ENCODES_IN_FLIGHT = 2;
const ENCODING_BYTES = 1 << 20;

function lazy<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

function isFileError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === "string" && ["ENOENT", "EACCES", "EPERM", "EISDIR", "EIO", "ELOOP", "ENXIO", "EAGAIN"].includes(code);
}
