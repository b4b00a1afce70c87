// Prune: remove what no snapshot references any more, the way restic's `prune` does (0.14, cmd_prune.go).
//
// The caller holds an EXCLUSIVE repository lock (no backup is adding packs meanwhile; restic's own backups respect it).
// 1. Every snapshot's trees are walked: the used blobs. A tree or data blob the index lacks, or a pack the index names
//    that the storage does not hold, means a damaged repository: prune refuses and changes nothing.
// 2. Packs: all blobs used → kept; none used → deleted; some used → repacked when the unused bytes would otherwise
//    stay above `maxUnused` of the repository (restic's --max-unused 5%), sparsest packs first; packs no index names
//    (a killed backup's) → deleted. A blob stored twice counts as used once.
// 3. Crash-safe order: repacked blobs into new packs, then their index (flush); then one new set of index files listing
//    every kept pack completely; then the old index files are deleted; then the old packs. A kill between any two
//    steps leaves a repository `restic check` passes (at worst packs listed twice: a hint, or unreferenced ones).
import { IntegrityError } from "./errors.js";
import type { Id } from "./ids.js";
import { type PackEntry, INDEX_MAX_BLOBS } from "./index.js";
import { entrySize, type PackedBlob } from "./pack.js";
import type { Repository } from "./repository.js";
import { decodeSnapshot } from "./snapshot-doc.js";
import type { CallOptions } from "./storage.js";
import { decodeTree } from "./tree.js";

export interface PrunePlan {
  snapshots: number;
  usedBlobs: number;
  /** Index entries no snapshot needs (a second copy of a used blob counts here). */
  unusedBlobs: number;
  /** Bytes of blobs in use, and of blobs no snapshot needs (as stored, headers included). */
  usedBytes: number;
  unusedBytes: number;
  packsToDelete: Id[];
  packsToRepack: Id[];
  /** Packs on storage that no index file names (left by an interrupted backup). */
  unindexedPacks: Id[];
  packsKept: number;
  /** Bytes the deletions free (stored size of the packs removed, less what repacking writes again). */
  bytesFreed: number;
  bytesRepacked: number;
  indexFilesToReplace: Id[];
}

export interface PruneOptions {
  dryRun: boolean;
  signal?: AbortSignal;
  /** Unused share of the repository tolerated after pruning (restic's --max-unused; default 0.05). */
  maxUnused?: number;
  onProgress?: (message: string) => void;
}

export interface PruneResult {
  plan: PrunePlan;
  /** Objects removed, as repository paths (`data/ab/ab…`, `index/…`); dry run: what would be. */
  removed: string[];
  freedBytes: number;
}

/**
 * Deletes snapshot files (restic's `forget` without a policy). The caller holds an exclusive lock, as for prune.
 * Never throws for one snapshot: each failure is collected ("<short id>: message") and the rest go on.
 */
export async function forgetSnapshots(repo: Repository, ids: readonly Id[], opts: { signal?: AbortSignal } = {}): Promise<{ removed: Id[]; errors: string[] }> {
  const call: CallOptions = opts.signal ? { signal: opts.signal } : {};
  const removed: Id[] = [];
  const errors: string[] = [];
  for (const id of ids) {
    try {
      await repo.deleteSnapshot(id, call);
      removed.push(id);
    } catch (err) {
      errors.push(`${id.slice(0, 8)}: ${(err as Error).message}`);
    }
  }
  return { removed, errors };
}

const key = (type: string, id: Id) => `${type === "tree" ? "t" : "d"}${id}`;

/** The blobs every snapshot needs. Throws IntegrityError (naming the snapshot) when a needed blob is not indexed. */
async function usedBlobs(repo: Repository, call: CallOptions, progress: (m: string) => void): Promise<{ used: Set<string>; snapshots: number }> {
  const used = new Set<string>();
  const ids = await repo.listSnapshots(call);
  let n = 0;
  for (const sid of ids) {
    const doc = decodeSnapshot(await repo.loadUnpacked("snapshots", sid, call));
    const queue: Id[] = [doc.tree];
    while (queue.length > 0) {
      const batch = queue.splice(0, 8).filter((t) => !used.has(key("tree", t)));
      for (const t of batch) used.add(key("tree", t));
      const trees = await Promise.all(
        batch.map(async (t) => {
          if (!repo.index.has("tree", t)) throw new IntegrityError(`refusing to prune: tree ${t.slice(0, 8)} of snapshot ${sid.slice(0, 8)} is not in the index (the repository is damaged; run \`backup verify\`)`, "index/");
          return decodeTree(await repo.loadBlob("tree", t, call));
        }),
      );
      for (const nodes of trees) {
        for (const node of nodes) {
          if (node.type === "dir" && node.subtree) queue.push(node.subtree);
          for (const d of node.content ?? []) {
            if (!repo.index.has("data", d)) throw new IntegrityError(`refusing to prune: data blob ${d.slice(0, 8)} of snapshot ${sid.slice(0, 8)} is not in the index (the repository is damaged; run \`backup verify\`)`, "index/");
            used.add(key("data", d));
          }
        }
      }
    }
    progress(`snapshot ${++n}/${ids.length} walked`);
  }
  return { used, snapshots: ids.length };
}

const stored = (b: PackedBlob) => b.length + entrySize(b);

export async function pruneRepository(repo: Repository, opts: PruneOptions): Promise<PruneResult> {
  const call: CallOptions = opts.signal ? { signal: opts.signal } : {};
  const progress = opts.onProgress ?? (() => {});
  // Uploads a killed writer staged but never moved into place (no writer is active under the exclusive lock).
  if (!opts.dryRun) await repo.storage.removeStaged?.(call);
  // Index files as they are now (every one read again, not from memory: restic or another install may have written).
  const indexIds = (await repo.storage.list("index", call)).map((f) => f.name);
  const indexed = new Map<Id, PackEntry>();
  for (const id of indexIds) for (const p of await repo.loadIndexFile(id, call)) if (!indexed.has(p.id)) indexed.set(p.id, p);
  await repo.loadIndex(call);
  const onStorage = new Map((await repo.listPacks(call)).map((f) => [f.name, f.size]));
  const missing = [...indexed.keys()].filter((p) => !onStorage.has(p));
  if (missing.length > 0) {
    throw new IntegrityError(`refusing to prune: the index names ${missing.length} pack(s) the repository does not hold (first: data/${missing[0]!.slice(0, 2)}/${missing[0]}); run \`backup verify\``, `data/${missing[0]!.slice(0, 2)}/${missing[0]}`);
  }
  const { used, snapshots } = await usedBlobs(repo, call, progress);

  // Which copy of each used blob is kept: the first met, in packs ordered fullest first (fewer packs to repack).
  const claimed = new Set<string>();
  const stats = new Map<Id, { used: number; unused: number; blobs: PackedBlob[]; keep: PackedBlob[] }>();
  for (const [id, p] of indexed) stats.set(id, { used: 0, unused: 0, blobs: p.blobs, keep: [] });
  const order = [...stats.entries()].sort((a, b) => countUsed(b[1].blobs, used) - countUsed(a[1].blobs, used));
  for (const [, s] of order) {
    for (const b of s.blobs) {
      const k = key(b.type, b.id);
      if (used.has(k) && !claimed.has(k)) {
        claimed.add(k);
        s.used += stored(b);
        s.keep.push(b);
      } else s.unused += stored(b);
    }
  }
  const plan: PrunePlan = {
    snapshots,
    usedBlobs: claimed.size,
    unusedBlobs: [...stats.values()].reduce((n, s) => n + s.blobs.length - s.keep.length, 0),
    usedBytes: 0,
    unusedBytes: 0,
    packsToDelete: [],
    packsToRepack: [],
    unindexedPacks: [...onStorage.keys()].filter((p) => !indexed.has(p)),
    packsKept: 0,
    bytesFreed: 0,
    bytesRepacked: 0,
    indexFilesToReplace: indexIds,
  };
  const partial: Id[] = [];
  for (const [id, s] of stats) {
    plan.usedBytes += s.used;
    plan.unusedBytes += s.unused;
    if (s.used === 0) plan.packsToDelete.push(id);
    else if (s.unused > 0) partial.push(id);
  }
  // Repack the sparsest partly used packs until what stays unused is within the limit (restic: of the size after).
  const maxUnused = opts.maxUnused ?? 0.05;
  let unusedLeft = partial.reduce((n, id) => n + stats.get(id)!.unused, 0);
  const limit = (plan.usedBytes * maxUnused) / (1 - maxUnused);
  partial.sort((a, b) => stats.get(b)!.unused / (stats.get(b)!.used + 1) - stats.get(a)!.unused / (stats.get(a)!.used + 1));
  for (const id of partial) {
    if (unusedLeft <= limit) break;
    plan.packsToRepack.push(id);
    unusedLeft -= stats.get(id)!.unused;
    plan.bytesRepacked += stats.get(id)!.used;
  }
  const gone = new Set([...plan.packsToDelete, ...plan.packsToRepack]);
  plan.packsKept = indexed.size - gone.size;
  for (const id of [...gone, ...plan.unindexedPacks]) plan.bytesFreed += onStorage.get(id) ?? 0;
  plan.bytesFreed -= plan.bytesRepacked;
  const removed = [...[...gone, ...plan.unindexedPacks].map((id) => `data/${id.slice(0, 2)}/${id}`)];
  const nothingToDo = gone.size === 0 && plan.unindexedPacks.length === 0;
  if (!nothingToDo) removed.push(...indexIds.map((id) => `index/${id}`));
  if (opts.dryRun || nothingToDo) return { plan, removed: opts.dryRun ? removed : [], freedBytes: opts.dryRun ? plan.bytesFreed : 0 };

  // (a) the used blobs of packs to repack, into new packs (and their index file).
  let repacked = 0;
  for (const id of plan.packsToRepack) {
    for (const b of stats.get(id)!.keep) {
      opts.signal?.throwIfAborted();
      const plain = await repo.loadBlob(b.type, b.id, call);
      await repo.saveBlob(b.type, plain, b.id, { ...call, rewrite: true });
    }
    progress(`repacked ${++repacked}/${plan.packsToRepack.length} pack(s)`);
  }
  const flushed = await repo.flush(call);
  // (b) one new set of index files naming every kept pack completely.
  const kept = [...indexed.values()].filter((p) => !gone.has(p.id));
  const written: Id[] = [...flushed.indexFiles];
  let batch: PackEntry[] = [];
  let blobs = 0;
  for (const p of kept) {
    if (batch.length > 0 && blobs + p.blobs.length > INDEX_MAX_BLOBS) {
      written.push(await repo.saveIndexFile(batch, call));
      batch = [];
      blobs = 0;
    }
    batch.push(p);
    blobs += p.blobs.length;
  }
  if (batch.length > 0) written.push(await repo.saveIndexFile(batch, call));
  progress(`wrote ${written.length} index file(s)`);
  // (c) the old index files, then (d) the old packs.
  const fresh = new Set(written);
  for (const id of indexIds) if (!fresh.has(id)) await repo.deleteIndexFile(id, call);
  for (const id of [...gone, ...plan.unindexedPacks]) await repo.deletePack(id, call);
  progress(`deleted ${gone.size + plan.unindexedPacks.length} pack(s)`);
  return { plan, removed, freedBytes: plan.bytesFreed };
}

function countUsed(blobs: readonly PackedBlob[], used: ReadonlySet<string>): number {
  let n = 0;
  for (const b of blobs) if (used.has(key(b.type, b.id))) n++;
  return n;
}
