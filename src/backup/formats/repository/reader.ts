// Reading one snapshot of a restic repository (ours or restic's own) through the format-neutral SnapshotReader:
// - nodes(): the trees alone, walked depth-first in tree order (names sorted by bytes), subtrees read ahead and
//   several trees of one pack fetched with one request — no file data (ls, find, diff, restore --dry-run);
// - entries(): every entry with its content in the same order; a planner walks the trees ahead of the consumer and
//   queues each file's data blobs with a BlobFetcher, which reads them pack range by pack range, several requests in
//   flight, within a bounded window — the consumer (a restore) finds the next blobs already there.
// Every tree and blob is verified (MAC, zstd, SHA-256 = ID); a damaged one is an IntegrityError naming the blob, its
// pack and the path that needed it. Hostile trees: a name holding "/" or NUL, or "", "." or "..", is never joined
// into a path — the node is reported with a `problem` (restore refuses and reports it) and a folder's subtree is not
// entered. restic's own snapshots (trees mirroring absolute paths, no product field) read the same way.
import { createHash } from "node:crypto";
import { gcPacer } from "../../gc-pacer.js";
import type { ReadCheck, ReadOptions, SnapshotEntry, SnapshotNode, SnapshotReader } from "../format.js";
import { BlobFetcher, type BlobSource, type FetcherOptions, type Ticket } from "./blob-fetcher.js";
import { type BlobDecoder, workerDecoder } from "./decode-pool.js";
import { IntegrityError } from "./errors.js";
import type { Id } from "./ids.js";
import { GoMode, type Node } from "./node.js";
import type { Repository } from "./repository.js";
import { decodeSnapshot, type SnapshotDoc } from "./snapshot-doc.js";
import { decodeTree, TreeError } from "./tree.js";

export interface RepositoryReadOptions {
  /** The snapshot document, when the caller already loaded it (listing). */
  snapshot?: SnapshotDoc;
  /** Bytes of file content the snapshot holds, when recorded: the progress total. */
  totalBytes?: number;
  /** Stored bytes of file data fetched ahead of the consumer (default 8 MiB). */
  aheadBytes?: number;
  /** Data reads in flight (default 4; the rclone transport allows 6 requests at once). */
  reads?: number;
  /** Largest single data read (default 2 MiB; a bigger blob is read alone). */
  maxReadBytes?: number;
  /**
   * Decode blobs on a worker thread as their reads arrive (decode-pool.ts). Default: on when the consumer writes
   * files (a restore, whose writer keeps the main thread busy with synchronous system calls), off otherwise (verify,
   * export, dry runs: nothing to overlap with, and a second heap costs memory).
   */
  decodeOnWorker?: boolean;
}

/** A node of a tree with its path inside the snapshot (what the walk hands out). */
export interface WalkedNode {
  path: string;
  node: Node;
  /** Set when the name is unusable (the node is reported, never joined into a path or entered). */
  problem?: string;
}

const TREE_AHEAD_BYTES = 4 << 20;
const TREE_READS = 2;
/** The data window's refill point when a decoder thread works ahead (blob-fetcher.ts refillAt). */
const REFILL_DECODING_AHEAD = 0.75;
/** Heap growth since the last full collection below which a restore's due one waits (gc-pacer.ts minGrowth). */
const RESTORE_GC_GROWTH = 8 << 20;
/** Entries planned ahead of the consumer at most (bounds memory for trees of many tiny files). */
const PLANNED_ENTRIES = 4096;

const indexLoads = new WeakMap<Repository, Promise<unknown>>();

/** Loads the repository's index once per Repository object (a second call waits for the first). */
export function ensureIndex(repo: Repository, signal?: AbortSignal): Promise<unknown> {
  let loading = indexLoads.get(repo);
  if (!loading) {
    loading = repo.loadIndex(signal ? { signal } : {});
    loading.catch(() => indexLoads.delete(repo));
    indexLoads.set(repo, loading);
  }
  return loading;
}

/** Why a decoded name cannot be part of a path, or undefined when it can. */
export function nameProblem(name: Uint8Array): string | undefined {
  if (name.length === 0) return "empty name";
  if (name.length === 1 && name[0] === 0x2e) return 'invalid name "."';
  if (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e) return 'invalid name ".."';
  if (name.includes(0x2f)) return 'invalid name (holds "/")';
  if (name.includes(0)) return "invalid name (holds NUL)";
  return undefined;
}

const utf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("utf8");

/** POSIX permission and special bits from Go's os.FileMode (restic stores the Go value). */
export function posixMode(goMode: number): number {
  let m = goMode & 0o777;
  if (goMode & GoMode.setuid) m |= 0o4000;
  if (goMode & GoMode.setgid) m |= 0o2000;
  if (goMode & GoMode.sticky) m |= 0o1000;
  return m;
}

/**
 * A file's content identity: equal blob lists, equal identity. One blob (most files) is its own ID, no hash needed
 * (a restore names 20,000 files a GiB); a longer list, the SHA-256 of its ordered IDs.
 */
export function contentIdOf(content: readonly string[]): string {
  if (content.length === 1) return content[0]!;
  const h = createHash("sha256");
  for (const id of content) h.update(id);
  return h.digest("hex");
}

export function toSnapshotNode(w: WalkedNode): SnapshotNode {
  const n = w.node;
  const t = n.type as string;
  const type: SnapshotNode["type"] = t === "file" || t === "dir" || t === "symlink" ? t : "other";
  const out: SnapshotNode = {
    path: w.path,
    type,
    size: n.type === "file" ? Number(n.size ?? 0n) : 0,
    mode: posixMode(n.mode),
    mtime: new Date(n.mtime.sec * 1000 + Math.floor(n.mtime.nsec / 1e6)),
  };
  if (type === "other") out.kind = n.type || "unknown";
  if (n.type === "symlink") out.linkTarget = n.linkTarget ? utf8(n.linkTarget) : "";
  if (n.type === "file" && n.content) out.contentId = contentIdOf(n.content);
  if (w.problem) out.problem = w.problem;
  return out;
}

/** ReadOptions.descend in the walk's terms. */
const descendOf = (ro: ReadOptions): { descend?: (w: WalkedNode) => boolean } => {
  const descend = ro.descend;
  return descend ? { descend: (w) => descend(toSnapshotNode(w)) } : {};
};

/** A name's path below the folder at `prefix` ("" for the snapshot's root). */
const pathIn = (prefix: string, name: Node["name"]): string => (prefix ? `${prefix}/${utf8(name)}` : utf8(name));

/**
 * Walks a snapshot's trees depth-first in stored order, handing out each node with its path. Subtrees are queued
 * with the tree fetcher in exactly the order the walk will need them, so they are read ahead, coalesced per pack.
 * `descend` turns folders down: such a folder is visited, its tree neither read nor walked.
 */
export async function walkTrees(
  repo: Repository,
  root: Id,
  visit: (w: WalkedNode) => Promise<void> | void,
  opts: { signal?: AbortSignal; onRead?: (bytes: number) => void; fetcher?: FetcherOptions; descend?: (w: WalkedNode) => boolean; foldersOnly?: boolean } = {},
): Promise<void> {
  // Trees come from their packs kept whole (the local cache, or one download per pack), not a request per folder.
  const source: BlobSource = {
    key: repo.key,
    index: repo.index,
    storage: { load: async (type, name, range, o) => (range && type === "data" ? await repo.treePackRange(name, range, o) : undefined) ?? repo.storage.load(type, name, range, o) },
  };
  const trees = new BlobFetcher(source, { aheadBytes: TREE_AHEAD_BYTES, reads: TREE_READS, ...opts.fetcher, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onRead ? { onRead: opts.onRead } : {}) });
  const walk = async (ticket: Ticket, prefix: string): Promise<void> => {
    let nodes: Node[];
    const where = prefix ? `folder ${prefix}` : "the snapshot's root";
    try {
      nodes = decodeTree(await ticket.take(), opts.foldersOnly);
    } catch (err) {
      ticket.release();
      if (err instanceof TreeError) throw new IntegrityError(`tree ${ticket.id} (${where}) does not decode: ${err.message}`, "data/");
      if (err instanceof IntegrityError) throw new IntegrityError(`${err.message} (tree of ${where})`, err.file);
      throw err;
    }
    // Children's subtrees go right after this tree in the queue, in order: the queue stays depth-first.
    const children: (Ticket | undefined)[] = [];
    let anchor = ticket;
    for (const n of nodes) {
      // A folder turned down (restore --path) is visited, its tree never read.
      if (n.type === "dir" && n.subtree && !nameProblem(n.name) && (!opts.descend || opts.descend({ path: pathIn(prefix, n.name), node: n }))) {
        anchor = trees.push("tree", n.subtree, anchor);
        children.push(anchor);
      } else children.push(undefined);
    }
    ticket.release();
    try {
      for (const [i, n] of nodes.entries()) {
        const problem = nameProblem(n.name);
        const path = problem ? `${prefix ? `${prefix}/` : ""}${JSON.stringify(utf8(n.name))}` : pathIn(prefix, n.name);
        if (n.type === "dir" && !n.subtree && !problem) throw new IntegrityError(`tree ${ticket.id} (${where}): folder ${JSON.stringify(utf8(n.name))} has no subtree`, "data/");
        await visit({ path, node: n, ...(problem ? { problem } : {}) });
        const child = children[i];
        if (child) {
          children[i] = undefined;
          await walk(child, path);
        }
      }
    } finally {
      for (const c of children) c?.release();
    }
  };
  try {
    await walk(trees.push("tree", root), "");
  } finally {
    trees.close();
  }
}

/** The snapshot document and a ready index. */
async function prepare(repo: Repository, snapshotId: Id, opts: RepositoryReadOptions, signal?: AbortSignal): Promise<SnapshotDoc> {
  const doc = opts.snapshot ?? decodeSnapshot(await repo.loadUnpacked("snapshots", snapshotId, signal ? { signal } : {}));
  await ensureIndex(repo, signal);
  return doc;
}

interface Planned {
  w: WalkedNode;
  node: SnapshotNode;
  tickets?: Ticket[];
  /** Tickets taken and released already (the first ones, in order). */
  released?: number;
}

/** A bounded hand-over between the tree-walking planner and the consumer. */
class Plan {
  private readonly items: Planned[] = [];
  private done = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private space: (() => void) | undefined;
  /** Stored bytes of queued tickets not yet consumed. */
  bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxItems: number,
  ) {}

  async put(p: Planned): Promise<void> {
    this.items.push(p);
    this.wake?.();
    while (!this.failure && (this.items.length >= this.maxItems || this.bytes >= this.maxBytes)) await new Promise<void>((r) => (this.space = r));
    if (this.failure) throw this.failure;
  }

  end(err?: Error): void {
    this.done = true;
    this.failure ??= err;
    this.wake?.();
    this.space?.();
  }

  async next(): Promise<Planned | undefined> {
    while (this.items.length === 0) {
      if (this.failure) throw this.failure;
      if (this.done) return undefined;
      await new Promise<void>((r) => (this.wake = r));
    }
    const p = this.items.shift()!;
    if (this.items.length < this.maxItems) {
      const s = this.space;
      this.space = undefined;
      s?.();
    }
    return p;
  }

  taken(bytes: number): void {
    this.bytes -= bytes;
    if (this.bytes < this.maxBytes && this.items.length < this.maxItems) {
      const s = this.space;
      this.space = undefined;
      s?.();
    }
  }

  drain(): Planned[] {
    return this.items.splice(0);
  }
}

/**
 * The SnapshotReader of one snapshot. `snapshotId` is the snapshot file's ID. Nothing is read before nodes() or
 * entries() is called (the repository must be open: its key is needed to decrypt).
 */
export function openRepositorySnapshot(repo: Repository, snapshotId: Id, opts: RepositoryReadOptions = {}): SnapshotReader {
  const label = `snapshot ${snapshotId.slice(0, 8)}`;
  const named = (err: unknown): Error => {
    if (err instanceof IntegrityError) return new IntegrityError(`${label} cannot be read: ${err.message}`, err.file);
    return err as Error;
  };
  /** A decoder started by prepareRead() for the entries() that follows. */
  let early: BlobDecoder | undefined;
  const onWorkerFor = (writesFiles: boolean) => opts.decodeOnWorker ?? repo.storage.readShape?.decodeOnWorker ?? writesFiles;
  return {
    prepareRead() {
      // A restore follows (it writes files): the decoder's thread boots now (~0.1 s), beside the walk for the folders.
      if (onWorkerFor(true)) early ??= workerDecoder(repo.key);
      return async () => {
        early?.close();
        early = undefined;
      };
    },
    async nodes(visit: (node: SnapshotNode) => Promise<void>, ro: ReadOptions = {}): Promise<void> {
      try {
        const doc = await prepare(repo, snapshotId, opts, ro.signal);
        await walkTrees(repo, doc.tree, (w) => visit(toSnapshotNode(w)), {
          ...(ro.signal ? { signal: ro.signal } : {}),
          ...descendOf(ro),
          ...(ro.foldersOnly ? { foldersOnly: true } : {}),
        });
      } catch (err) {
        throw named(err);
      }
    },

    async entries(visit: (entry: SnapshotEntry) => Promise<void>, ro: ReadOptions = {}): Promise<ReadCheck> {
      let doc: SnapshotDoc;
      try {
        doc = await prepare(repo, snapshotId, opts, ro.signal);
      } catch (err) {
        throw named(err);
      }
      // Progress needs a total: a snapshot that does not record one (restic < 0.17's), or a selection of it (--path:
      // only the folders it reaches), is counted from its trees first, unless the caller counted it already.
      let total = opts.totalBytes ?? 0;
      if (ro.onTotal && ro.counted) {
        total = ro.counted.bytes;
        ro.onTotal(ro.counted.files, total);
      } else if (ro.onTotal && (opts.totalBytes === undefined || ro.wanted)) {
        let files = 0;
        total = 0;
        try {
          await walkTrees(repo, doc.tree, (w) => {
            if (w.node.type === "file" && !w.problem && (!ro.wanted || ro.wanted(toSnapshotNode(w)))) {
              files++;
              total += Number(w.node.size ?? 0n);
            }
          }, { ...(ro.signal ? { signal: ro.signal } : {}), ...descendOf(ro) });
        } catch (err) {
          throw named(err);
        }
        ro.onTotal(files, total);
      }
      // A restore decodes on a worker: decoding then runs beside the writer's system calls instead of between them.
      // Measured on 1 GiB (docs/performance.md, 2026-12-05 16:20–16:45): 6.2–6.6 s instead of 8.3–8.9 s, and ~40% of
      // the page faults (each fresh buffer's pages are faulted in; here that cost ~15 µs a page). Decoded blobs
      // wait in the window as plaintext then, so the window is 4 MiB, not 8: at 8 MiB the run held 154–163 MiB and
      // was slower (more fresh memory, more faults); at 4 MiB 145–148 MiB, at 2 MiB 143–146 MiB in the same time.
      // A transport whose requests are costly (rclone: each opens the object anew on the remote) asks for fewer,
      // larger reads and decoding when taken (backend.ts RCLONE_READ_SHAPE); a local folder gets the defaults here.
      const shape = repo.storage.readShape;
      const onWorker = onWorkerFor(!!ro.writesFiles);
      const aheadBytes = opts.aheadBytes ?? shape?.aheadBytes ?? (onWorker ? 4 << 20 : 8 << 20);
      let stored = 0;
      let delivered = 0;
      // Every read and every decoded blob is a fresh Buffer outside V8's heap. Each read's buffer is freed when its
      // last blob is decoded (blob-fetcher.ts); a restore's writer also frees each decoded blob once written
      // (handOver), so little is left for the collector: a minor collection every 32 MiB, a full one every 128 MiB
      // (counted as bytes read plus bytes handed out). Other readers (verify, export) keep their blobs to the
      // collector, which must run often to hold memory: every 8 and 24 MiB. Measured on 1 GiB (docs/performance.md):
      // a restore at 8/24 MiB without the frees 8.1–8.5 s, 153–157 MiB; with them at 32/128 MiB 7.0–7.1 s,
      // 134–136 MiB (fewer collections without the frees: 177–189 MiB). With the worker's heap beside it too, 128 MiB
      // once cost more memory (147–149 MiB against 142–145 at 64); since the main thread also writes small files when
      // the worker is behind (restore/file-writers.ts) it is the busier thread, and each full collection (~20 ms) is
      // its time: 1 GiB into tmpfs 4.5–4.8 s at 136–140 MiB against 4.7–5.0 s at 130–133 MiB (256: 151 MiB).
      // A restore's full collection runs only once the heap grew by 8 MiB since the last: through large files they
      // found nothing to free (17.1 → 16.7 MiB, ~20 ms each), through small files ~12 MiB each 128 MiB.
      const pace = ro.writesFiles ? gcPacer(32 << 20, 128 << 20, { minGrowth: RESTORE_GC_GROWTH }) : gcPacer(8 << 20, 24 << 20);
      // Without a worker, blobs are decoded when taken (lazily: the window holds the smaller stored form).
      const ready = early;
      early = undefined;
      if (ready && !onWorker) ready.close();
      const decoder = onWorker ? (ready ?? workerDecoder(repo.key)) : undefined;
      // A restore's small files are written on the decoder's thread; without one (through rclone), on the main thread.
      if (decoder?.filePort) ro.onThread?.(() => decoder.filePort!());
      const data = new BlobFetcher(repo, {
        ...(decoder ? { decoder } : {}),
        aheadBytes,
        reads: opts.reads ?? shape?.reads ?? 4,
        maxReadBytes: opts.maxReadBytes ?? shape?.maxReadBytes ?? 2 << 20,
        // Decoding ahead on the worker (a local folder's defaults): the window is topped up once a quarter of it is
        // free, not half. Through large files (blobs of 0.5–8 MiB in a 4 MiB window) one taken blob then lets the next
        // read start, where at half the decoder's thread waited for reads ~25% of the time (the media folder of the
        // 1 GiB set: 0.25–0.29 s of ~1.0 s); the small files' reads still bring ~80 blobs along.
        ...(decoder && !shape ? { refillAt: REFILL_DECODING_AHEAD } : {}),
        ...(ro.signal ? { signal: ro.signal } : {}),
        onRead: (n) => (stored += n),
      });
      const plan = new Plan(aheadBytes * 2, PLANNED_ENTRIES);
      const planner = walkTrees(
        repo,
        doc.tree,
        async (w) => {
          const node = toSnapshotNode(w);
          let tickets: Ticket[] | undefined;
          if (node.type === "file" && !node.problem) {
            if (!w.node.content) throw new IntegrityError(`file ${w.path} has no content list (damaged tree)`, "data/");
            if (!ro.wanted || ro.wanted(node)) {
              tickets = w.node.content.map((id) => data.push("data", id));
              plan.bytes += tickets.reduce((n, t) => n + (t.size ?? 0), 0);
            }
            // What the content will really be: the blobs' sizes (a node's recorded size can disagree, restic #1887).
            const sizes = (tickets ?? w.node.content.map((id) => ({ size: repo.index.plaintextSize("data", id) }))).map((t) => t.size);
            if (sizes.every((s) => s !== undefined)) node.size = sizes.reduce((a, b) => a! + b!, 0)!;
          }
          await plan.put({ w, node, ...(tickets ? { tickets } : {}) });
        },
        { ...(ro.signal ? { signal: ro.signal } : {}), ...descendOf(ro), onRead: (n) => (stored += n) },
      ).then(
        () => plan.end(),
        (err: Error) => plan.end(err),
      );
      const release = (p: Planned) => {
        if (!p.tickets) return;
        for (let i = p.released ?? 0; i < p.tickets.length; i++) {
          p.tickets[i]!.release();
          plan.taken(p.tickets[i]!.size ?? 0);
        }
        p.tickets = undefined;
      };
      try {
        for (let p = await plan.next(); p; p = await plan.next()) {
          const planned = p;
          const content = async function* (): AsyncGenerator<Uint8Array> {
            if (planned.node.type !== "file") return;
            const tickets = planned.tickets ?? planned.w.node.content!.map((id) => data.push("data", id));
            planned.tickets = tickets;
            for (const t of tickets) {
              const plain = await t.take();
              // Taken: the plaintext is the writer's now, and the read-ahead moves on while it is written. (Released
              // only at the file's end, a file larger than the window would read its other blobs one at a time, each
              // only once the writer waits for it.)
              t.release();
              plan.taken(t.size ?? 0);
              planned.released = (planned.released ?? 0) + 1;
              delivered += plain.length;
              pace(delivered + stored);
              ro.onBytes?.(delivered, Math.max(total, delivered));
              yield plain;
            }
          };
          let used = false;
          const entry: SnapshotEntry = {
            ...planned.node,
            content: () => {
              if (used) throw new Error(`${planned.node.path}: content read twice`);
              used = true;
              return content();
            },
          };
          try {
            await visit(entry);
          } finally {
            release(planned);
          }
        }
      } catch (err) {
        const failure = err instanceof Error ? err : new Error(String(err));
        plan.end(failure);
        data.stop(failure);
        for (const p of plan.drain()) release(p);
        await planner;
        throw named(err);
      } finally {
        data.close();
        decoder?.close();
      }
      await planner;
      return { storedBytes: stored };
    },
  };
}
