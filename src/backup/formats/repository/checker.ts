// `restic check` in TypeScript (restic 0.14 internal/checker/checker.go and cmd/restic/cmd_check.go; HEAD where it is
// stricter): what the format's check() needs for `backup verify`.
//
// Structure (always):
//   1. every index file is downloaded again (never from the local cache: a tampered remote file must show), decrypted
//      and parsed; a pack listed by two index files is a hint (the same blobs) or an error (different blobs, as restic
//      HEAD says); a pack holding data and tree blobs is a hint;
//   2. every pack the index names exists with exactly the size its entries imply; a pack no index names is a hint
//      (what a killed backup leaves; prune removes it);
//   3. every checked snapshot decrypts and names a tree; every tree it reaches is in the index as a tree blob and
//      decodes; every node is sane (known type, a name, a file's content list of indexed data blobs, a folder's
//      subtree). Trees shared by snapshots are checked once. Names that could never be restored safely ("", ".", "..",
//      holding "/" or NUL) are errors here too (restic's restorer refuses them).
// Data (readData, optionally a random subset of packs as restic's --read-data-subset n%): each pack is downloaded
// whole; its SHA-256 must be its name, its header must decrypt and list exactly the index's entries, every blob must
// decrypt, decompress and hash to its ID.
// Findings name the file at fault (index/…, data/xx/…, snapshots/…) and the tree and node where it applies.
import { createHash, randomInt } from "node:crypto";
import { AuthenticationError, open } from "./crypto.js";
import { BlobFetcher, pieceLayout, type Ticket } from "./blob-fetcher.js";
import { IntegrityError, NotFoundError } from "./errors.js";
import { type Id, isId } from "./ids.js";
import { MasterIndex, type PackEntry, parseIndex } from "./index.js";
import type { Node } from "./node.js";
import { releaseDecompressContext } from "./compress.js";
import { decodeBlob, type PackedBlob, packSizeFromBlobs, parseHeader } from "./pack.js";
import { releaseBuffer } from "../../../util/release-buffer.js";
import { nameProblem } from "./reader.js";
import type { Repository } from "./repository.js";
import { decodeSnapshot } from "./snapshot-doc.js";
import { repoPath } from "./storage.js";
import { decodeTree } from "./tree.js";
import { decodeUnpacked, parseDocument } from "./unpacked.js";

export interface Finding {
  /** Repository path of the file at fault, when one is (index/…, data/xx/…, snapshots/…). */
  file?: string;
  message: string;
}

export interface SnapshotCheck {
  id: Id;
  ok: boolean;
  /** What is wrong with this snapshot (its document, or a tree it reaches). */
  errors: string[];
  /** What its trees hold (counted as a restore would: every occurrence). */
  found: { files: number; dirs: number; symlinks: number; bytes: number };
  /**
   * The snapshot file is gone: removed after the caller listed it (a forget, or a backup's retention, which runs
   * under that backup's shared lock beside this check's). Nothing of it is left to check; not a finding.
   */
  gone?: boolean;
}

export interface RepositoryCheckOptions {
  /** Snapshots whose trees are checked (default: every snapshot in the repository). */
  snapshots?: Id[];
  /** Download packs and check every blob (restic check --read-data). */
  readData?: boolean;
  /** With readData: this fraction of the packs, chosen at random (0 < subset ≤ 1; restic's --read-data-subset n%). */
  subset?: number;
  /**
   * Which packs readData reads: "all" packs of the index (restic), or only those holding blobs of the checked
   * snapshots. Default: "all" when every snapshot is checked, else "snapshots".
   */
  dataScope?: "all" | "snapshots";
  /** Packs downloaded at once (default 2). */
  reads?: number;
  signal?: AbortSignal;
  /** Pack bytes read so far, of the total the data check will read. */
  onBytes?: (read: number, total: number) => void;
}

export interface RepositoryCheckReport {
  /** No error (hints do not count, as in restic). */
  ok: boolean;
  errors: Finding[];
  hints: Finding[];
  snapshots: SnapshotCheck[];
  indexFiles: number;
  packs: { indexed: number; stored: number; read: number; readBytes: number };
}

interface TreeFacts {
  errors: string[];
  subtrees: Id[];
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

const packFile = (id: Id) => repoPath("data", id);

/** The blob lists of two index entries for one pack are the same. */
function sameBlobs(a: readonly PackedBlob[], b: readonly PackedBlob[]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: PackedBlob) => `${x.type}:${x.id}:${x.offset}:${x.length}:${x.uncompressedLength}`;
  const set = new Set(a.map(key));
  return b.every((x) => set.has(key(x)));
}

export async function checkRepository(repo: Repository, opts: RepositoryCheckOptions = {}): Promise<RepositoryCheckReport> {
  try {
    return await check(repo, opts);
  } finally {
    releaseDecompressContext(); // the zstd context kept between blobs
  }
}

async function check(repo: Repository, opts: RepositoryCheckOptions): Promise<RepositoryCheckReport> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const errors: Finding[] = [];
  const hints: Finding[] = [];
  const index = new MasterIndex();

  // Snapshots are listed before the index is read (restic's read order: a snapshot committed meanwhile has its index).
  const listedSnapshots = await repo.listSnapshots(call);
  const wanted = opts.snapshots ?? listedSnapshots;

  // ---- 1. index files ----------------------------------------------------------------------------------------
  const indexIds = (await repo.storage.list("index", call)).map((f) => f.name).filter(isId);
  const packSeen = new Map<Id, { file: Id; blobs: PackedBlob[] }[]>();
  for (const id of indexIds) {
    let packs: PackEntry[];
    try {
      const bytes = await repo.storage.load("index", id, undefined, call);
      packs = parseIndex(parseDocument("index", id, decodeUnpacked(repo.key, repo.version, "index", id, bytes)), `index/${id}`);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      errors.push({ file: `index/${id}`, message: `index/${id} cannot be loaded: ${(err as Error).message}` });
      continue;
    }
    for (const p of packs) {
      const seen = packSeen.get(p.id);
      if (seen) seen.push({ file: id, blobs: p.blobs });
      else packSeen.set(p.id, [{ file: id, blobs: p.blobs }]);
      index.addPack(p.id, p.blobs);
    }
    index.indexFiles.add(id);
  }
  for (const [pack, seen] of packSeen) {
    if (seen.length > 1) {
      const files = seen.map((s) => s.file.slice(0, 8)).join(", ");
      if (seen.every((s) => sameBlobs(s.blobs, seen[0]!.blobs))) hints.push({ file: packFile(pack), message: `pack ${pack} is listed by several index files (${files}): non-critical` });
      else errors.push({ file: packFile(pack), message: `pack ${pack} is listed with different blobs by index files ${files}` });
    }
    const types = new Set(seen[0]!.blobs.map((b) => b.type));
    if (types.size > 1) hints.push({ file: packFile(pack), message: `pack ${pack} contains a mix of tree and data blobs: non-critical (prune repacks it)` });
  }
  packSeen.clear();

  // ---- 2. packs -------------------------------------------------------------------------------------------------
  const indexed = index.packs();
  const stored = new Map((await repo.listPacks(call)).map((f) => [f.name, f.size] as const));
  for (const [id, p] of indexed) {
    const size = stored.get(id);
    if (size === undefined) errors.push({ file: packFile(id), message: `pack ${id} does not exist (the index names it: data is missing)` });
    else if (size !== p.size) errors.push({ file: packFile(id), message: `pack ${id} has an unexpected size: ${size} bytes, the index implies ${p.size}` });
  }
  for (const id of stored.keys()) {
    if (!indexed.has(id) && isId(id)) {
      hints.push({ file: packFile(id), message: `pack ${id} is not referenced by any index: non-critical (left by an interrupted backup; prune removes it)` });
    }
  }

  // ---- 3. snapshots and trees ------------------------------------------------------------------------------------
  const facts = new Map<Id, TreeFacts>();
  const dataPacks = new Set<Id>();
  const trackPacks = opts.readData && (opts.dataScope ?? (opts.snapshots ? "snapshots" : "all")) === "snapshots";
  const trees = new BlobFetcher({ storage: repo.storage, key: repo.key, index }, { aheadBytes: 8 << 20, reads: 3, ...call });

  /** Checks every tree reachable from `roots` that was not checked before (breadth-first, reads coalesced). */
  const checkTrees = async (roots: Id[]): Promise<void> => {
    const queue: { id: Id; ticket: Ticket }[] = [];
    const enqueue = (id: Id) => {
      if (facts.has(id)) return;
      facts.set(id, { errors: [], subtrees: [], files: 0, dirs: 0, symlinks: 0, bytes: 0 }); // placeholder: visited
      queue.push({ id, ticket: trees.push("tree", id) });
    };
    for (const r of roots) enqueue(r);
    while (queue.length) {
      const { id, ticket } = queue.shift()!;
      const f = facts.get(id)!;
      let nodes: Node[];
      try {
        if (trackPacks) for (const loc of index.lookup("tree", id)) dataPacks.add(loc.packId);
        nodes = decodeTree(await ticket.take());
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        const msg = (err as Error).message;
        f.errors.push(/not in the repository's index/.test(msg) ? `tree ${id} is not in the index (missing)` : `tree ${id} cannot be loaded: ${msg}`);
        continue;
      } finally {
        ticket.release();
      }
      for (const n of nodes) {
        const name = JSON.stringify(Buffer.from(n.name).toString("utf8"));
        const problem = nameProblem(n.name);
        if (problem) f.errors.push(`tree ${id}: node ${name}: ${problem === "empty name" ? "node with empty name" : problem}`);
        switch (n.type) {
          case "file":
            f.files++;
            f.bytes += Number(n.size ?? 0n);
            if (n.content === null) {
              f.errors.push(`tree ${id}: file ${name} has nil blob list`);
              break;
            }
            for (const [i, blob] of n.content.entries()) {
              if (/^0{64}$/.test(blob)) f.errors.push(`tree ${id}: file ${name} blob ${i} has null ID`);
              else if (!index.has("data", blob)) f.errors.push(`tree ${id}: file ${name} blob ${blob} not found in index`);
              else if (trackPacks) for (const loc of index.lookup("data", blob)) dataPacks.add(loc.packId);
            }
            break;
          case "dir":
            f.dirs++;
            if (!n.subtree) f.errors.push(`tree ${id}: dir node ${name} has no subtree`);
            else if (/^0{64}$/.test(n.subtree)) f.errors.push(`tree ${id}: dir node ${name} subtree id is null`);
            else if (!problem) {
              f.subtrees.push(n.subtree);
              enqueue(n.subtree);
            }
            break;
          case "symlink":
            f.symlinks++;
            break;
          case "socket":
          case "chardev":
          case "dev":
          case "fifo":
            break;
          default:
            f.errors.push(`tree ${id}: node ${name} with invalid type ${JSON.stringify(n.type)}`);
        }
      }
    }
  };

  /** A snapshot's findings and counts, from the checked trees (a shared subtree counts once per occurrence). */
  const summarize = (root: Id): { errors: string[]; found: SnapshotCheck["found"] } => {
    const found = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
    const errs = new Set<string>();
    const stack = [root];
    const errorsSeen = new Set<Id>();
    while (stack.length) {
      const id = stack.pop()!;
      const f = facts.get(id);
      if (!f) continue; // a subtree under an unusable name: not entered, reported on its parent
      if (!errorsSeen.has(id)) {
        errorsSeen.add(id);
        for (const e of f.errors) errs.add(e);
      }
      found.files += f.files;
      found.dirs += f.dirs;
      found.symlinks += f.symlinks;
      found.bytes += f.bytes;
      stack.push(...f.subtrees);
    }
    return { errors: [...errs], found };
  };

  const listed = new Set(listedSnapshots);
  const reported = new Set<string>();
  const snapshots: SnapshotCheck[] = [];
  try {
    for (const id of wanted) {
      const none = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
      // Not there (any more) when the check came to it: forgotten after the caller listed it.
      const gone = () => snapshots.push({ id, ok: false, gone: true, errors: [`snapshots/${id} does not exist`], found: none });
      if (!listed.has(id)) {
        gone();
        continue;
      }
      let tree: Id;
      try {
        tree = decodeSnapshot(await repo.loadUnpacked("snapshots", id, { ...call, fresh: true })).tree;
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (err instanceof NotFoundError) {
          gone();
          continue;
        }
        const msg = `snapshots/${id} cannot be loaded: ${(err as Error).message}`;
        errors.push({ file: `snapshots/${id}`, message: msg });
        snapshots.push({ id, ok: false, errors: [msg], found: none });
        continue;
      }
      await checkTrees([tree]);
      const s = summarize(tree);
      for (const e of s.errors) {
        if (reported.has(e)) continue;
        reported.add(e);
        errors.push({ message: e });
      }
      snapshots.push({ id, ok: s.errors.length === 0, errors: s.errors, found: s.found });
    }
  } finally {
    trees.close();
  }
  // Damage of the packs the snapshots need is theirs too: a missing or mis-sized pack fails them.
  const packProblems = new Map<Id, string>();
  for (const e of errors) {
    const m = e.file && /^data\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(e.file);
    if (m) packProblems.set(m[1]!, e.message);
  }

  // ---- 4. data ------------------------------------------------------------------------------------------------
  let readPacks = 0;
  let readBytes = 0;
  if (opts.readData) {
    let candidates = [...indexed.keys()].filter((id) => stored.has(id) && (!trackPacks || dataPacks.has(id)));
    const fraction = Math.min(1, Math.max(0, opts.subset ?? 1));
    if (fraction < 1 && candidates.length > 0) {
      const count = Math.max(1, Math.floor(candidates.length * fraction));
      for (let i = candidates.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
      }
      candidates = candidates.slice(0, count);
    }
    const total = candidates.reduce((n, id) => n + (stored.get(id) ?? 0), 0);
    let next = 0;
    const worker = async () => {
      while (next < candidates.length) {
        const id = candidates[next++]!;
        const problem = await checkPack(repo, id, indexed.get(id)!.blobs, stored.get(id)!, call);
        readPacks++;
        readBytes += stored.get(id)!;
        opts.onBytes?.(readBytes, total);
        if (problem) {
          errors.push({ file: packFile(id), message: problem });
          packProblems.set(id, problem);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.reads ?? 2, candidates.length)) }, worker));
  }

  // A snapshot whose blobs sit in a damaged pack is damaged.
  if (packProblems.size) {
    for (const s of snapshots) {
      if (!s.ok && s.errors.length) continue;
      const hit = await snapshotUsesPacks(repo, index, s.id, packProblems, call).catch(() => undefined);
      if (hit) {
        s.ok = false;
        s.errors.push(hit);
      }
    }
  }
  return {
    ok: errors.length === 0,
    errors,
    hints,
    snapshots,
    indexFiles: indexIds.length,
    packs: { indexed: indexed.size, stored: stored.size, read: readPacks, readBytes },
  };
}

/** The first damaged pack holding a blob this snapshot needs, described; undefined when it needs none of them. */
async function snapshotUsesPacks(repo: Repository, index: MasterIndex, id: Id, damaged: Map<Id, string>, call: { signal?: AbortSignal }): Promise<string | undefined> {
  const tree = decodeSnapshot(await repo.loadUnpacked("snapshots", id, { ...call, fresh: true })).tree;
  const fetcher = new BlobFetcher({ storage: repo.storage, key: repo.key, index }, { aheadBytes: 8 << 20, reads: 3, ...call });
  const seen = new Set<Id>();
  const queue: Ticket[] = [fetcher.push("tree", tree)];
  const packOf = (type: "data" | "tree", blob: Id) => index.lookup(type, blob).find((l) => damaged.has(l.packId))?.packId;
  try {
    while (queue.length) {
      const t = queue.shift()!;
      let nodes: Node[];
      try {
        const hitTree = packOf("tree", t.id);
        if (hitTree) return `needs tree ${t.id} in damaged pack ${packFile(hitTree)}`;
        nodes = decodeTree(await t.take());
      } catch {
        continue; // reported by the structure check
      } finally {
        t.release();
      }
      for (const n of nodes) {
        if (n.type === "file" && n.content) {
          for (const b of n.content) {
            const p = packOf("data", b);
            if (p) return `needs data blob ${b} (file ${JSON.stringify(Buffer.from(n.name).toString("utf8"))}) in damaged pack ${packFile(p)}`;
          }
        } else if (n.type === "dir" && n.subtree && !seen.has(n.subtree) && !nameProblem(n.name)) {
          seen.add(n.subtree);
          queue.push(fetcher.push("tree", n.subtree));
        }
      }
    }
  } finally {
    for (const t of queue) t.release();
    fetcher.close();
  }
  return undefined;
}

/**
 * Reads one pack and checks it as restic's checkPack does; returns what is wrong, or undefined. Through a transport
 * that hands a read out in pieces (rclone's), the pack is hashed and its blobs decoded as they arrive, so no whole
 * pack is held; a local folder reads it whole.
 */
export async function checkPack(repo: Repository, id: Id, indexBlobs: readonly PackedBlob[], size: number, call: { signal?: AbortSignal } = {}): Promise<string | undefined> {
  const blobs = [...indexBlobs].sort((a, b) => a.offset - b.offset);
  let bytes: Buffer;
  try {
    const streamed = await checkInPieces(repo, id, blobs, size, call);
    if (typeof streamed !== "object") return streamed;
    bytes = streamed.whole;
  } catch (err) {
    if (call.signal?.aborted) throw err;
    return `pack ${id} failed to download: ${(err as Error).message}`;
  }
  try {
    return checkPackBytes(repo, id, blobs, size, bytes);
  } finally {
    // Ours alone (storage.load hands out a new buffer): freed now, not when a collection finds it (16 MiB a pack).
    releaseBuffer(bytes);
  }
}

/**
 * The read of a pack in pieces (the fetcher's layout: runs of blobs up to 1 MiB), then the header with its length. Its
 * SHA-256 is taken piece by piece in order, each blob decoded and each piece freed as it comes. Answers the findings
 * (a string, or undefined: none), or the pack whole where the transport answered it whole or the index does not lay
 * the pack out without gaps (the whole read's findings say which).
 */
async function checkInPieces(repo: Repository, id: Id, blobs: readonly PackedBlob[], size: number, call: { signal?: AbortSignal }): Promise<string | undefined | { whole: Buffer }> {
  const whole = async () => ({ whole: await repo.storage.load("data", id, undefined, call) });
  let end = 0;
  for (const b of blobs) {
    if (b.offset !== end) return whole();
    end = b.offset + b.length;
  }
  if (blobs.length === 0 || size - end < 4) return whole();
  const layout = pieceLayout(blobs.map((b) => ({ blob: b, loc: b })), 0);
  const runs = layout.blobs.map((run) => run.map((s) => s.blob));
  const lengths = [...layout.lengths, size - end]; // then the header and its length
  const file = packFile(id);
  const hash = createHash("sha256");
  const blobProblems: string[] = [];
  let next = 0;
  let tail: Buffer | undefined;
  const onPiece = (index: number, piece: Buffer | undefined) => {
    if (index !== next || !piece) return; // a retry hands the pieces it had handed out again
    next++;
    hash.update(piece);
    const run = runs[index];
    if (!run) {
      tail = piece;
      return;
    }
    const at = layout.offsets[index]!;
    for (const b of run) {
      const problem = blobProblem(repo, id, file, b, piece.subarray(b.offset - at, b.offset - at + b.length));
      if (problem) blobProblems.push(problem);
    }
    releaseBuffer(piece);
  };
  const answer = await repo.storage.load("data", id, { offset: 0, length: size }, { ...call, pieces: { lengths, onPiece } });
  if (answer.length > 0) return { whole: answer }; // not taken in pieces
  const digest = hash.digest("hex");
  if (digest !== id || next < lengths.length) return `pack ${id} does not match its name: its SHA-256 is ${digest} (damaged or tampered; ${file})`;
  try {
    return summary(id, [...headerProblems(repo, file, tail!, size, blobs), ...blobProblems]);
  } finally {
    releaseBuffer(tail!);
  }
}

/** checkPack's findings on the whole pack's bytes (blobs sorted by offset). */
function checkPackBytes(repo: Repository, id: Id, blobs: readonly PackedBlob[], size: number, bytes: Buffer): string | undefined {
  const file = packFile(id);
  const problems: string[] = [];
  let end = 0;
  for (const b of blobs) {
    if (b.offset !== end) {
      problems.push("the index for this pack contains gaps or overlapping blobs");
      break;
    }
    end = b.offset + b.length;
  }
  const hash = createHash("sha256").update(bytes).digest("hex");
  if (hash !== id) return `pack ${id} does not match its name: its SHA-256 is ${hash} (damaged or tampered; ${file})`;
  if (bytes.length !== size) problems.push(`read ${bytes.length} bytes, listed as ${size}`);
  problems.push(...headerProblems(repo, file, bytes, bytes.length, blobs));
  for (const b of blobs) {
    if (b.offset + b.length > bytes.length) {
      problems.push(`blob ${b.id} lies beyond the end of the pack`);
      continue;
    }
    const problem = blobProblem(repo, id, file, b, bytes.subarray(b.offset, b.offset + b.length));
    if (problem) problems.push(problem);
  }
  return summary(id, problems);
}

/** What is wrong with one blob of a pack (MAC, zstd, SHA-256 = its ID), or undefined; its plaintext is not kept. */
function blobProblem(repo: Repository, id: Id, file: string, b: PackedBlob, sealed: Buffer): string | undefined {
  try {
    releaseBuffer(decodeBlob(repo.key, b, sealed, id));
    return undefined;
  } catch (err) {
    return `blob ${b.id}: ${(err as Error).message.replace(` in pack ${file}`, "")}`;
  }
}

/**
 * The header, from the file itself (`end`: the pack's last bytes, header and its length; `total`: the pack's size): it
 * must list exactly what the index lists.
 */
function headerProblems(repo: Repository, file: string, end: Buffer, total: number, blobs: readonly PackedBlob[]): string[] {
  const problems: string[] = [];
  let header: PackedBlob[] | undefined;
  try {
    if (end.length < 4) throw new IntegrityError("too small to be a pack", file);
    const hlen = end.readUInt32LE(end.length - 4);
    if (hlen < 32 || hlen > end.length - 4) throw new IntegrityError(`header length ${hlen} is invalid`, file);
    let plain: Buffer;
    try {
      plain = open(repo.key, end.subarray(end.length - 4 - hlen, end.length - 4));
    } catch (err) {
      if (err instanceof AuthenticationError) throw new IntegrityError("the pack header fails authentication", file);
      throw err;
    }
    header = parseHeader(plain, file);
    if (packSizeFromBlobs(header) !== total) problems.push(`the header describes ${packSizeFromBlobs(header)} bytes, the file has ${total}`);
  } catch (err) {
    problems.push(`header: ${(err as Error).message}`);
  }
  if (header) {
    const key = (b: PackedBlob) => `${b.type}:${b.id}:${b.offset}:${b.length}:${b.uncompressedLength}`;
    const inIndex = new Set(blobs.map(key));
    const inHeader = new Set(header.map(key));
    for (const b of header) if (!inIndex.has(key(b))) problems.push(`blob ${b.id} is not contained in the index or its position is incorrect`);
    for (const b of blobs) if (!inHeader.has(key(b))) problems.push(`the index lists blob ${b.id} that the pack header does not`);
  }
  return problems;
}

/** A pack's findings as one line, the first five spelled out; undefined when there are none. */
function summary(id: Id, problems: readonly string[]): string | undefined {
  if (problems.length === 0) return undefined;
  const shown = problems.slice(0, 5).join("; ") + (problems.length > 5 ? `; … (${problems.length - 5} more)` : "");
  return `pack ${id} contains ${problems.length} error(s): ${shown} (${packFile(id)})`;
}
