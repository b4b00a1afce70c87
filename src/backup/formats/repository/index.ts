// Index files (index/<id>) and the in-memory index of every blob in the repository.
// An index file lists packs completely: {"packs":[{"id","blobs":[{"id","type","offset","length",
// "uncompressed_length"?}]}]} + "\n" (Go json.Encoder; restic internal/repository/index.go). No "supersedes"
// (removed in restic 0.17; older versions treat it as optional).
// The in-memory index keeps each entry in flat typed arrays with an open-addressing hash table over the ID bytes
// (~60 bytes per blob: 1M blobs ≈ 60 MB, where a Map of hex strings would need well over twice that).
import { IntegrityError } from "./errors.js";
import { type Id, ID_BYTES, isId } from "./ids.js";
import { type BlobType, type PackedBlob, packSizeFromBlobs } from "./pack.js";

export interface IndexBlobJson {
  id: string;
  type: string;
  offset: number;
  length: number;
  uncompressed_length?: number;
}

export interface IndexPackJson {
  id: string;
  blobs: IndexBlobJson[];
}

export interface IndexDocument {
  packs: IndexPackJson[];
  supersedes?: string[];
}

export interface PackEntry {
  id: Id;
  blobs: PackedBlob[];
}

/** restic starts a new index file at this many blobs (HEAD; 0.14 allowed 150k in compressed repositories). */
export const INDEX_MAX_BLOBS = 50_000;

export function encodeIndex(packs: readonly PackEntry[]): string {
  const doc = {
    packs: packs.map((p) => ({
      id: p.id,
      blobs: p.blobs.map((b) => ({
        id: b.id,
        type: b.type,
        offset: b.offset,
        length: b.length,
        ...(b.uncompressedLength !== 0 ? { uncompressed_length: b.uncompressedLength } : {}),
      })),
    })),
  };
  return `${JSON.stringify(doc)}\n`;
}

const isUint32 = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** Checks an index document's shape; errors name the index file. */
export function parseIndex(doc: unknown, file: string): PackEntry[] {
  const bad = (what: string) => new IntegrityError(`${file}: ${what}`, file);
  const packs = (doc as IndexDocument | null)?.packs;
  if (!Array.isArray(packs)) throw bad("no packs array (not an index file)");
  return packs.map((p: IndexPackJson, i) => {
    if (!isId(p?.id)) throw bad(`pack ${i} has no valid id`);
    if (!Array.isArray(p.blobs)) throw bad(`pack ${p.id} has no blobs array`);
    return {
      id: p.id,
      blobs: p.blobs.map((b, j) => {
        if (!isId(b?.id)) throw bad(`pack ${p.id} blob ${j} has no valid id`);
        if (b.type !== "data" && b.type !== "tree") throw bad(`blob ${b.id} has invalid type ${JSON.stringify(b.type)}`);
        const ulen = b.uncompressed_length ?? 0;
        if (!isUint32(b.offset) || !isUint32(b.length) || !isUint32(ulen)) throw bad(`blob ${b.id} has invalid offset/length`);
        return { id: b.id, type: b.type, offset: b.offset, length: b.length, uncompressedLength: ulen };
      }),
    };
  });
}

/** Where a blob is stored. */
export interface BlobLocation extends PackedBlob {
  packId: Id;
}

const TYPE_CODE: Record<BlobType, number> = { data: 0, tree: 1 };
const TYPE_NAME: BlobType[] = ["data", "tree"];

/** Every blob of the repository: membership tests for dedup, locations for reads, pack sizes for check/prune. */
export class MasterIndex {
  /** A Buffer for its hex write/read at an offset: no view made per blob. */
  private ids = Buffer.alloc(0);
  /** Per entry: pack number, offset, length, uncompressed length. */
  private meta = new Uint32Array(0);
  private types = new Uint8Array(0);
  private count = 0;
  private table = new Int32Array(1024);
  private readonly packIds: Id[] = [];
  private readonly packNumbers = new Map<Id, number>();
  /** Per pack: where its last indexed blob ends (the pack's size less its header). */
  private readonly packEnds: number[] = [];
  /** Index files whose packs are loaded. */
  readonly indexFiles = new Set<Id>();

  get size(): number {
    return this.count;
  }

  get packCount(): number {
    return this.packIds.length;
  }

  hasPack(packId: Id): boolean {
    return this.packNumbers.has(packId);
  }

  private ensureCapacity(extra: number): void {
    const need = this.count + extra;
    if (need > this.types.length) {
      const cap = Math.max(need, Math.ceil(this.types.length * 1.5), 1024);
      const ids = Buffer.alloc(cap * ID_BYTES);
      ids.set(this.ids);
      const meta = new Uint32Array(cap * 4);
      meta.set(this.meta);
      const types = new Uint8Array(cap);
      types.set(this.types);
      this.ids = ids;
      this.meta = meta;
      this.types = types;
    }
    if (need * 2 > this.table.length) {
      let size = this.table.length;
      while (need * 2 > size) size *= 2;
      this.table = new Int32Array(size);
      for (let i = 0; i < this.count; i++) this.insertSlot(i);
    }
  }

  /** Drops the spare capacity growth left (call after loading: ~49 bytes per blob plus the hash table remain). */
  trim(): void {
    if (this.types.length === this.count) return;
    this.ids = Buffer.from(this.ids.subarray(0, this.count * ID_BYTES)); // a copy: Buffer's slice() would be a view
    this.meta = this.meta.slice(0, this.count * 4);
    this.types = this.types.slice(0, this.count);
  }

  private hashAt(entry: number): number {
    const at = entry * ID_BYTES;
    return (this.ids[at]! | (this.ids[at + 1]! << 8) | (this.ids[at + 2]! << 16) | (this.ids[at + 3]! << 24)) >>> 0;
  }

  private insertSlot(entry: number): void {
    const mask = this.table.length - 1;
    let slot = this.hashAt(entry) & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = entry + 1;
  }

  /** Adds all blobs of one pack (duplicates of blobs in other packs are kept: both copies are real). */
  addPack(packId: Id, blobs: readonly PackedBlob[]): void {
    let pack = this.packNumbers.get(packId);
    if (pack === undefined) {
      pack = this.packIds.length;
      this.packIds.push(packId);
      this.packNumbers.set(packId, pack);
      this.packEnds.push(0);
    } else {
      return; // the same pack listed in two index files (a hint for restic check, not an error)
    }
    this.ensureCapacity(blobs.length);
    for (const b of blobs) {
      const e = this.count++;
      this.ids.write(b.id, e * ID_BYTES, ID_BYTES, "hex");
      this.meta[e * 4] = pack;
      this.meta[e * 4 + 1] = b.offset;
      this.meta[e * 4 + 2] = b.length;
      this.meta[e * 4 + 3] = b.uncompressedLength;
      this.types[e] = TYPE_CODE[b.type];
      this.insertSlot(e);
      this.packEnds[pack] = Math.max(this.packEnds[pack]!, b.offset + b.length);
    }
  }

  /** Bytes of a pack's blobs (the file is this plus its header); undefined for a pack not indexed. */
  packDataSize(packId: Id): number | undefined {
    const n = this.packNumbers.get(packId);
    return n === undefined ? undefined : this.packEnds[n];
  }

  /** Every indexed pack's ID. */
  packIdSet(): Set<Id> {
    return new Set(this.packIds);
  }

  /** Scratch space for the ID being looked up (a lookup runs per file of every backup: no allocation each). */
  private readonly key = Buffer.alloc(ID_BYTES);

  /** The first slot at or after `slot` (in probe order) whose entry holds the ID in `key` with that type code, or -1. */
  private probe(code: number, slot: number): number {
    const mask = this.table.length - 1;
    const key = this.key;
    const ids = this.ids;
    for (;;) {
      const v = this.table[slot & mask]!;
      if (v === 0) return -1;
      const e = v - 1;
      if (this.types[e] === code) {
        const at = e * ID_BYTES;
        let i = 0;
        while (i < ID_BYTES && ids[at + i] === key[i]) i++;
        if (i === ID_BYTES) return slot;
      }
      slot++;
    }
  }

  /** Puts the ID's bytes in `key`; false when it is not 64 hex digits (then nothing matches). */
  private setKey(id: Id): boolean {
    return id.length === ID_BYTES * 2 && this.key.write(id, "hex") === ID_BYTES;
  }

  private entryAt(slot: number): number {
    return this.table[slot & (this.table.length - 1)]! - 1;
  }

  /** The first stored copy's entry, or -1. */
  private first(type: BlobType, id: Id): number {
    if (!this.setKey(id)) return -1;
    const slot = this.probe(TYPE_CODE[type], this.key.readUInt32LE(0));
    return slot < 0 ? -1 : this.entryAt(slot);
  }

  has(type: BlobType, id: Id): boolean {
    return this.first(type, id) >= 0;
  }

  private location(e: number): BlobLocation {
    return {
      id: this.ids.toString("hex", e * ID_BYTES, (e + 1) * ID_BYTES),
      type: TYPE_NAME[this.types[e]!]!,
      packId: this.packIds[this.meta[e * 4]!]!,
      offset: this.meta[e * 4 + 1]!,
      length: this.meta[e * 4 + 2]!,
      uncompressedLength: this.meta[e * 4 + 3]!,
    };
  }

  /** Every stored copy of the blob (usually one). */
  lookup(type: BlobType, id: Id): BlobLocation[] {
    const copies: BlobLocation[] = [];
    if (!this.setKey(id)) return copies;
    const code = TYPE_CODE[type];
    for (let slot = this.probe(code, this.key.readUInt32LE(0)); slot >= 0; slot = this.probe(code, slot + 1)) copies.push(this.location(this.entryAt(slot)));
    return copies;
  }

  /** Plaintext size of a blob, if indexed. */
  plaintextSize(type: BlobType, id: Id): number | undefined {
    const e = this.first(type, id);
    if (e < 0) return undefined;
    return this.meta[e * 4 + 3]! || this.meta[e * 4 + 2]! - 32;
  }

  *blobs(): Generator<BlobLocation> {
    for (let e = 0; e < this.count; e++) yield this.location(e);
  }

  /** Each pack with its blobs in file order and the size its index entries imply. */
  packs(): Map<Id, { blobs: PackedBlob[]; size: number }> {
    const out = new Map<Id, { blobs: PackedBlob[]; size: number }>();
    for (const id of this.packIds) out.set(id, { blobs: [], size: 0 });
    for (const loc of this.blobs()) {
      const { packId, ...blob } = loc;
      out.get(packId)!.blobs.push(blob);
    }
    for (const p of out.values()) {
      p.blobs.sort((a, b) => a.offset - b.offset);
      p.size = packSizeFromBlobs(p.blobs);
    }
    return out;
  }
}
