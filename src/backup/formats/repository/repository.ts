// A restic repository (format version 2, also reads version 1): the storage-layer primitives the archiver,
// restorer, checker and prune build on.
//
// Write path: saveBlob() → compress + encrypt → a pack per blob type (data and tree never share a pack) → when a
// pack reaches the target size it is uploaded while the next one fills (a bounded number in flight, so memory stays
// near (uploads + 2) × pack size; data packs fill a staged file instead where the storage has one: a local folder,
// an rclone remote's spool folder) → flush() uploads the open packs, waits for every upload, then writes the index
// files naming them. The caller writes the snapshot only after flush(): packs, then index, then snapshot, so a crash
// leaves at most packs no index names (restic check: a hint; prune removes them).
//
// Read path: loadIndex() (index files through the local cache), loadBlob() (one ranged read per blob, verified, with
// a small cache), loadUnpacked()/snapshots.
import type { BlobType, PackedBlob } from "./pack.js";
import { GatedStorage } from "./gated-storage.js";
import { decodeBlob, DEFAULT_PACK_SIZE, encodeBlob, PackWriter, readPackHeader } from "./pack.js";
import { hasConfig, loadConfig, newConfig, type RepoConfig, saveConfig } from "./config.js";
import { type CryptoKey, newRandomKey } from "./crypto.js";
import { IntegrityError, NotARepositoryError } from "./errors.js";
import { hashId, type Id, isId } from "./ids.js";
import { encodeIndex, INDEX_MAX_BLOBS, MasterIndex, type PackEntry, parseIndex } from "./index.js";
import { FileCache } from "./index-cache.js";
import { addKey, calibrateKdf, type KdfParams, searchKey } from "./key.js";
import { type AcquireOptions, RepositoryLock } from "./lock.js";
import type { ByteRange, CallOptions, FileInfo, Storage } from "./storage.js";
import { decodeUnpacked, encodeUnpacked, parseDocument, type UnpackedType } from "./unpacked.js";

export type { BlobType, PackedBlob } from "./pack.js";
export type { Id } from "./ids.js";

export type Compression = "auto" | "off" | "max";

export interface RepositoryOptions {
  /** Target pack size in bytes (restic 0.14 default: 16 MiB; restic accepts 4–128 MiB). */
  packSize?: number;
  /** Packs uploading at once (default 2). */
  uploads?: number;
  /** auto = zstd level 3 (restic's default), max = level 19, off = data blobs stored uncompressed. */
  compression?: Compression;
  /** Folder for the local index cache (under the state dir); no cache when omitted. */
  cacheDir?: string;
  /** Bytes of decoded blobs loadBlob keeps (default 16 MiB). */
  blobCacheBytes?: number;
  /** Blobs per index file (restic: 50,000). */
  indexMaxBlobs?: number;
  /** Called after each pack upload (progress). */
  onPackStored?: (pack: { id: Id; size: number; blobs: number; type: BlobType }) => void;
}

export interface InitOptions extends RepositoryOptions, CallOptions {
  /** scrypt parameters of the first key (default: calibrated as restic does). */
  kdf?: KdfParams;
  /** For tests and interop: a fixed chunker polynomial. */
  chunkerPolynomial?: bigint;
}

export interface OpenOptions extends RepositoryOptions, CallOptions {
  /** Key file to try first (the one that opened last time). */
  keyHint?: Id;
  /** The caller saw the config file already (a listing): no need to look for it again. */
  configKnown?: boolean;
}

export interface SaveBlobResult {
  id: Id;
  /** Already in the repository (or in this run's packs): nothing was added. */
  known: boolean;
  /** Bytes the blob adds to its pack (0 when known). */
  storedBytes: number;
}

export interface FlushResult {
  packs: number;
  indexFiles: Id[];
}

interface PendingUpload {
  done: Promise<void>;
}

/** Bytes of a staged pack queued for the disk before the writer waits. */
const STAGED_BACKLOG = 8 << 20;
/** Tree packs bigger than this are read blob by blob (a mixed pack of another tool could be large). */
const TREE_PACK_MAX = 64 << 20;
/** Tree packs held in memory at once (the disk cache holds them all). */
const TREE_PACKS_IN_MEMORY = 24 << 20;

const COMPRESSION_LEVEL: Record<Compression, number> = { auto: 3, max: 19, off: 0 };

export class Repository {
  readonly index = new MasterIndex();
  private readonly packSize: number;
  private readonly maxUploads: number;
  private readonly writers = new Map<BlobType, PackWriter>();
  /** Blobs in open or uploading packs, not yet in the index ("type:id"). */
  private readonly pending = new Set<string>();
  private readonly uploads = new Set<PendingUpload>();
  /** Packs uploaded whose index file is not written yet. */
  private unindexed: PackEntry[] = [];
  private unindexedBlobs = 0;
  private failure: Error | undefined;
  private readonly blobCache = new Map<string, Buffer>();
  private blobCacheUsed = 0;
  private readonly indexCache: FileCache | undefined;
  private readonly snapshotCache: FileCache | undefined;
  /** Packs of tree blobs, kept whole on disk as restic's cache does: an incremental run reads its parent's trees locally. */
  private readonly treePackCache: FileCache | undefined;
  private readonly treePacks = new Map<Id, Buffer>();
  private treePacksUsed = 0;
  private readonly treePacksLoading = new Map<Id, Promise<Buffer | undefined>>();
  /** Tree packs whose download did not hash to their name: read blob by blob from then on, not downloaded again. */
  private readonly treePacksRefused = new Set<Id>();
  private readonly indexMaxBlobs: number;

  /** The transport, behind the gates that order this repository's writes (gated-storage.ts). */
  readonly storage: GatedStorage;

  private constructor(
    storage: Storage,
    readonly config: RepoConfig,
    /** The master key (never logged). */
    readonly key: CryptoKey,
    /** The key file that opened the repository (or made it: set once initAhead has written it). */
    private keyFileId: Id,
    private readonly opts: RepositoryOptions,
  ) {
    this.storage = storage instanceof GatedStorage ? storage : new GatedStorage(storage);
    this.packSize = opts.packSize ?? DEFAULT_PACK_SIZE;
    this.maxUploads = Math.max(1, opts.uploads ?? 2);
    this.indexMaxBlobs = opts.indexMaxBlobs ?? INDEX_MAX_BLOBS;
    this.indexCache = opts.cacheDir ? new FileCache(opts.cacheDir, config.id, "index") : undefined;
    this.snapshotCache = opts.cacheDir ? new FileCache(opts.cacheDir, config.id, "snapshots") : undefined;
    this.treePackCache = opts.cacheDir ? new FileCache(opts.cacheDir, config.id, "tree-packs") : undefined;
  }

  /** Like `restic init --repository-version 2`: folders, a key for `password`, then the config. */
  static async init(storage: Storage, password: string, opts: InitOptions = {}): Promise<Repository> {
    const repo = await Repository.initAhead(storage, password, opts);
    await repo.created;
    return repo;
  }

  /**
   * init for a run that goes on writing: returns at once with the master key and config in memory, while the folders,
   * the key file (restic's KDF calibration and the key's scrypt, ~1 s on the thread pool) and then the config
   * are written in the background — the run's reading, chunking and encoding start at once. Every other write (lock,
   * pack, index, snapshot) waits for both (gated-storage.ts), so the remote never holds a lock or a pack outside a
   * repository; `created` says when they are stored, or why they could not be (then every write fails with that).
   */
  static async initAhead(storage: Storage, password: string, opts: InitOptions = {}): Promise<Repository> {
    if (await hasConfig(storage, opts)) throw new NotARepositoryError(`a repository already exists at ${storage.location}: open it instead of creating one`);
    const config = newConfig(2);
    if (opts.chunkerPolynomial !== undefined) config.chunkerPolynomial = opts.chunkerPolynomial;
    const master = newRandomKey();
    let stored!: (done: Promise<void>) => void;
    const gated = new GatedStorage(storage, new Promise<void>((resolve) => (stored = resolve)));
    const repo = new Repository(gated, config, master, "", opts);
    repo.created = (async () => {
      // The calibration (restic's: as many scrypt runs as fit in 500 ms) runs while the folders are laid out.
      if (!opts.kdf) calibrateKdf().catch(() => {});
      await storage.create(opts);
      await removeOrphanKeys(storage, opts);
      repo.keyFileId = await addKey(storage, password, master, { params: opts.kdf, signal: opts.signal, ...(opts.cacheDir ? { cache: FileCache.keyFiles(opts.cacheDir) } : {}) });
      await saveConfig(storage, master, config, opts);
    })();
    repo.created.catch(() => {}); // the run's writes report it
    stored(repo.created);
    return repo;
  }

  /** Opens with a password: any key file that opens gives the master key; then the config is read and checked. */
  static async open(storage: Storage, password: string, opts: OpenOptions = {}): Promise<Repository> {
    if (!opts.configKnown && !(await hasConfig(storage, opts))) throw new NotARepositoryError(`there is no restic repository at ${storage.location} (no config file)`);
    const cache = opts.cacheDir ? FileCache.keyFiles(opts.cacheDir) : undefined;
    let key = await searchKey(storage, password, { hint: opts.keyHint, signal: opts.signal, ...(cache ? { cache } : {}) });
    let config: RepoConfig;
    try {
      config = await loadConfig(storage, key.master, { keyId: key.id, signal: opts.signal });
    } catch (err) {
      // A locally kept key that does not open this config: the folder holds another repository now. Ask it.
      if (!(err instanceof IntegrityError) || !key.fromCache) throw err;
      key = await searchKey(storage, password, { signal: opts.signal });
      config = await loadConfig(storage, key.master, { keyId: key.id, signal: opts.signal });
    }
    return new Repository(storage, config, key.master, key.id, opts);
  }

  /** The key file that opened the repository, or made it ("" until initAhead has written that one). */
  get keyId(): Id {
    return this.keyFileId;
  }

  /**
   * Settles once the repository itself (key file and config) is stored: at once for an opened one; for one made by
   * initAhead when those writes are done, or rejects with the reason they failed.
   */
  created: Promise<void> = Promise.resolve();

  /**
   * Writes other than lock files wait for `until` as well, until the returned function is called: a backup reads and
   * chunks while its lock is taken, and stores nothing before the lock is there.
   */
  holdWrites(until: Promise<unknown>): () => void {
    return this.storage.hold(until);
  }

  get version(): number {
    return this.config.version;
  }

  /** Adds a key file for another password (e.g. a random repository password kept for `recipients`). */
  addKey(password: string, opts: CallOptions & { kdf?: KdfParams } = {}): Promise<Id> {
    return addKey(this.storage, password, this.key, { params: opts.kdf, signal: opts.signal });
  }

  /** restic-compatible lock: shared for backup, exclusive for prune/check. Release it when done. */
  lock(opts: AcquireOptions): Promise<RepositoryLock> {
    return RepositoryLock.acquire({ storage: this.storage, key: this.key, version: this.version }, opts);
  }

  // ---- index ------------------------------------------------------------------------------------------------

  /**
   * Loads every index file not loaded yet (from the local cache when it has it). Returns what was read from where.
   * A damaged index file is an IntegrityError naming it.
   */
  async loadIndex(opts: CallOptions = {}): Promise<{ files: number; downloaded: number; cached: number }> {
    const listed = (await this.storage.list("index", opts)).map((f) => f.name).filter(isId);
    let downloaded = 0;
    let cached = 0;
    const todo = listed.filter((id) => !this.index.indexFiles.has(id));
    const load = async (id: Id) => {
      let bytes = await this.indexCache?.get(id);
      const fromCache = bytes !== undefined;
      if (fromCache) cached++;
      else {
        bytes = await this.storage.load("index", id, undefined, opts);
        downloaded++;
      }
      const packs = parseIndex(parseDocument("index", id, decodeUnpacked(this.key, this.version, "index", id, bytes!)), `index/${id}`);
      if (this.indexCache && !fromCache) await this.indexCache.put(id, bytes!);
      for (const p of packs) this.index.addPack(p.id, p.blobs);
      this.index.indexFiles.add(id);
    };
    await inParallel(todo, 4, load);
    this.index.trim();
    await this.indexCache?.retain(new Set(listed));
    // Tree packs a prune (ours or restic's) deleted leave the cache with their index entries.
    await this.treePackCache?.retain(this.index.packIdSet());
    return { files: listed.length, downloaded, cached };
  }

  /** One index file's packs (for prune: which file lists what). */
  async loadIndexFile(id: Id, opts?: CallOptions): Promise<PackEntry[]> {
    const bytes = (await this.indexCache?.get(id)) ?? (await this.storage.load("index", id, undefined, opts));
    return parseIndex(parseDocument("index", id, decodeUnpacked(this.key, this.version, "index", id, bytes)), `index/${id}`);
  }

  /** Writes an index file listing these packs completely (for prune's rewritten index). */
  async saveIndexFile(packs: readonly PackEntry[], opts?: CallOptions): Promise<Id> {
    const { id, bytes } = encodeUnpacked(this.key, this.version, encodeIndex(packs));
    await this.storage.save("index", id, bytes, opts);
    await this.indexCache?.put(id, bytes).catch(() => {});
    this.index.indexFiles.add(id);
    return id;
  }

  /** Deletes an index file (prune: only after the packs it lists are listed by a new index, or are deleted). */
  async deleteIndexFile(id: Id, opts?: CallOptions): Promise<void> {
    await this.storage.remove("index", id, opts);
    this.index.indexFiles.delete(id);
  }

  // ---- blobs: write -----------------------------------------------------------------------------------------

  /** In the index, or already added in this run. */
  hasBlob(type: BlobType, id: Id): boolean {
    return this.pending.has(`${type}:${id}`) || this.index.has(type, id);
  }

  /**
   * Stores a blob unless the repository has it. `id` (the SHA-256 of the plaintext) may be passed when the caller
   * already computed it. Resolves once the blob is in a pack buffer; waits while too many packs are uploading.
   */
  async saveBlob(type: BlobType, plaintext: Uint8Array, id: Id = hashId(plaintext), opts: CallOptions & { rewrite?: boolean } = {}): Promise<SaveBlobResult> {
    this.throwIfFailed();
    // rewrite (prune's repacking): stored again although the index has it — its old pack is about to go.
    const known = () => (opts.rewrite ? this.pending.has(`${type}:${id}`) : this.hasBlob(type, id));
    if (known()) return { id, known: true, storedBytes: 0 };
    const compress = this.version >= 2 && (type === "tree" || this.opts.compression !== "off");
    const { sealed, uncompressedLength } = encodeBlob(this.key, plaintext, compress, COMPRESSION_LEVEL[this.opts.compression ?? "auto"] || 3);
    if (known()) return { id, known: true, storedBytes: 0 };
    this.pending.add(`${type}:${id}`);
    return { id, known: false, storedBytes: await this.addToPack(type, id, sealed, uncompressedLength, opts) };
  }

  /** Whether data blobs of this repository are compressed, and at which zstd level (for an outside encoder). */
  encoding(type: BlobType): { compress: boolean; level: number } {
    return { compress: this.version >= 2 && (type === "tree" || this.opts.compression !== "off"), level: COMPRESSION_LEVEL[this.opts.compression ?? "auto"] || 3 };
  }

  /**
   * Reserves a blob for an outside encoder: false when the repository has it or it is already on its way. A reserved
   * blob must then be stored with saveEncoded() (the run fails otherwise: a flush would miss it).
   */
  claimBlob(type: BlobType, id: Id): boolean {
    if (this.hasBlob(type, id)) return false;
    this.pending.add(`${type}:${id}`);
    return true;
  }

  /** Stores a blob claimed with claimBlob() and encoded elsewhere (compressed and sealed with this key). */
  async saveEncoded(type: BlobType, id: Id, sealed: Buffer, uncompressedLength: number, opts: CallOptions = {}): Promise<SaveBlobResult> {
    this.throwIfFailed();
    return { id, known: false, storedBytes: await this.addToPack(type, id, sealed, uncompressedLength, opts) };
  }

  /**
   * Appends a sealed blob to its type's open pack; a full pack starts uploading (waits while too many are). Returns the
   * bytes it adds, read before anything awaits: a staged pack frees the buffer once it is written.
   */
  private async addToPack(type: BlobType, id: Id, sealed: Buffer, uncompressedLength: number, opts: CallOptions): Promise<number> {
    const storedBytes = sealed.length;
    let writer = this.writers.get(type);
    if (!writer) {
      // Data packs are written to a staged file as they fill where the storage can (a local folder, an rclone
      // remote's spool folder): memory then holds no pack. Tree packs stay in memory: they are small, and the local
      // cache keeps a copy of each.
      writer = new PackWriter(this.key, type, type === "data" ? this.storage.stage?.("data") : undefined);
      this.writers.set(type, writer);
    }
    writer.add(id, sealed, uncompressedLength);
    if (writer.size >= this.packSize || writer.headerFull) {
      this.writers.delete(type);
      await this.startUpload(writer, opts);
    } else if (writer.staged && writer.staged.pending > STAGED_BACKLOG) {
      // The disk is slower than the encoder: wait rather than queue the pack in memory after all.
      await writer.staged.wait(STAGED_BACKLOG);
    }
    return storedBytes;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private async startUpload(writer: PackWriter, opts: CallOptions): Promise<void> {
    while (this.uploads.size >= this.maxUploads) await Promise.race([...this.uploads].map((u) => u.done));
    this.throwIfFailed();
    const pack = writer.finalize();
    const upload: PendingUpload = { done: Promise.resolve() };
    upload.done = (async () => {
      try {
        if (pack.staged) await pack.staged.commit("data", pack.id, opts);
        else await this.storage.save("data", pack.id, pack.parts, opts);
        // The next run reads these trees as its parent's: keep them locally now rather than download them then.
        if (writer.type === "tree" && this.treePackCache) await this.treePackCache.put(pack.id, Buffer.concat(pack.parts));
        this.index.addPack(pack.id, pack.blobs);
        this.unindexed.push({ id: pack.id, blobs: pack.blobs });
        this.unindexedBlobs += pack.blobs.length;
        for (const b of pack.blobs) this.pending.delete(`${b.type}:${b.id}`);
        this.opts.onPackStored?.({ id: pack.id, size: pack.size, blobs: pack.blobs.length, type: writer.type });
      } catch (err) {
        this.failure ??= err as Error;
      } finally {
        this.uploads.delete(upload);
      }
    })();
    this.uploads.add(upload);
    if (this.unindexedBlobs >= this.indexMaxBlobs) await this.writeIndex(opts);
  }

  private async writeIndex(opts: CallOptions): Promise<Id[]> {
    const written: Id[] = [];
    while (this.unindexed.length > 0) {
      // restic keeps index files to ~50k blobs; split big batches the same way.
      const batch: PackEntry[] = [];
      let blobs = 0;
      while (this.unindexed.length > 0 && (batch.length === 0 || blobs + this.unindexed[0]!.blobs.length <= this.indexMaxBlobs)) {
        const p = this.unindexed.shift()!;
        batch.push(p);
        blobs += p.blobs.length;
      }
      this.unindexedBlobs -= blobs;
      try {
        written.push(await this.saveIndexFile(batch, opts));
      } catch (err) {
        this.unindexed.unshift(...batch);
        this.unindexedBlobs += blobs;
        throw err;
      }
    }
    return written;
  }

  /**
   * Uploads the open packs, waits for every upload, then writes index files for all packs uploaded since the last
   * flush. After it resolves, every blob saved so far is in a stored pack named by a stored index file.
   */
  async flush(opts: CallOptions = {}): Promise<FlushResult> {
    let packs = 0;
    for (const [type, writer] of [...this.writers]) {
      this.writers.delete(type);
      if (writer.count > 0) {
        await this.startUpload(writer, opts);
        packs++;
      }
    }
    while (this.uploads.size > 0) await Promise.all([...this.uploads].map((u) => u.done));
    this.throwIfFailed();
    return { packs, indexFiles: await this.writeIndex(opts) };
  }

  // ---- blobs: read ------------------------------------------------------------------------------------------

  /** The plaintext of a blob, verified against its ID; tries each stored copy. */
  async loadBlob(type: BlobType, id: Id, opts: CallOptions = {}): Promise<Buffer> {
    const cacheKey = `${type}:${id}`;
    const hit = this.blobCache.get(cacheKey);
    if (hit) {
      this.blobCache.delete(cacheKey);
      this.blobCache.set(cacheKey, hit);
      return hit;
    }
    const copies = this.index.lookup(type, id);
    if (copies.length === 0) throw new IntegrityError(`${type} blob ${id} is not in the index (the repository is incomplete, or the index was not loaded)`, "index/");
    let last: Error | undefined;
    for (const loc of copies) {
      try {
        const pack = type === "tree" ? await this.treePack(loc.packId, opts) : undefined;
        const sealed = pack ? pack.subarray(loc.offset, loc.offset + loc.length) : await this.storage.load("data", loc.packId, { offset: loc.offset, length: loc.length }, opts);
        const plain = decodeBlob(this.key, loc, sealed, loc.packId);
        this.remember(cacheKey, plain);
        return plain;
      } catch (err) {
        last = err as Error;
      }
    }
    throw last!;
  }

  /**
   * `range` of a pack of trees, in a buffer of its own, taken from the whole pack (memory, the disk cache, or one
   * download of the pack, then cached): a walk of many folders then costs a request per tree pack, not per folder.
   * Undefined where the pack is not kept whole (no cache folder, a pack too big): the caller reads the range itself.
   */
  async treePackRange(packId: Id, range: ByteRange, opts: CallOptions = {}): Promise<Buffer | undefined> {
    const pack = await this.treePack(packId, opts);
    if (!pack || range.offset + range.length > pack.length) return undefined;
    return Buffer.from(pack.subarray(range.offset, range.offset + range.length));
  }

  /**
   * A pack of trees, whole: from memory, the disk cache, or downloaded once (one request for all its trees instead of
   * one per tree) and cached. Undefined without a cache folder, or for a pack too big to hold.
   */
  private treePack(packId: Id, opts: CallOptions): Promise<Buffer | undefined> {
    const inMemory = this.treePacks.get(packId);
    if (inMemory) return Promise.resolve(inMemory);
    const cache = this.treePackCache;
    const size = this.index.packDataSize(packId);
    if (!cache || size === undefined || size > TREE_PACK_MAX || this.treePacksRefused.has(packId)) return Promise.resolve(undefined);
    let loading = this.treePacksLoading.get(packId);
    if (!loading) {
      loading = (async () => {
        let bytes = await cache.get(packId);
        if (!bytes) {
          bytes = await this.storage.load("data", packId, undefined, opts);
          // A damaged download is not kept: each blob read from it is verified anyway, but the cache must not hold it.
          if (hashId(bytes) !== packId) {
            this.treePacksRefused.add(packId);
            return undefined;
          }
          await cache.put(packId, bytes);
        }
        this.keepTreePack(packId, bytes);
        return bytes;
      })().finally(() => this.treePacksLoading.delete(packId));
      this.treePacksLoading.set(packId, loading);
    }
    return loading;
  }

  private keepTreePack(packId: Id, bytes: Buffer): void {
    this.treePacks.set(packId, bytes);
    this.treePacksUsed += bytes.length;
    for (const [k, v] of this.treePacks) {
      if (this.treePacksUsed <= TREE_PACKS_IN_MEMORY || k === packId) break;
      this.treePacks.delete(k);
      this.treePacksUsed -= v.length;
    }
  }

  private remember(key: string, plain: Buffer): void {
    const budget = this.opts.blobCacheBytes ?? 16 << 20;
    if (plain.length > budget / 4) return;
    this.blobCache.set(key, plain);
    this.blobCacheUsed += plain.length;
    for (const [k, v] of this.blobCache) {
      if (this.blobCacheUsed <= budget) break;
      this.blobCache.delete(k);
      this.blobCacheUsed -= v.length;
    }
  }

  // ---- packs (check / prune) ----------------------------------------------------------------------------------

  /** Every pack file with its size as stored. */
  listPacks(opts?: CallOptions): Promise<FileInfo[]> {
    return this.storage.list("data", opts);
  }

  /** A pack's blobs as its own header lists them (checked against the file size). */
  readPackHeader(packId: Id, size?: number, opts?: CallOptions): Promise<PackedBlob[]> {
    return readPackHeader(this.storage, this.key, packId, size, opts);
  }

  /** The whole pack file (check --read-data, repacking). */
  loadPack(packId: Id, opts?: CallOptions): Promise<Buffer> {
    return this.storage.load("data", packId, undefined, opts);
  }

  /** Deletes a pack file (prune: only after no index file lists it any more). */
  deletePack(packId: Id, opts?: CallOptions): Promise<void> {
    return this.storage.remove("data", packId, opts);
  }

  // ---- unpacked files: snapshots ------------------------------------------------------------------------------

  /** Stores an encrypted JSON document (snapshots: only after flush()). Returns its ID. */
  async saveUnpacked(type: Exclude<UnpackedType, "index">, json: string | Uint8Array, opts?: CallOptions): Promise<Id> {
    const { id, bytes } = encodeUnpacked(this.key, this.version, json);
    await this.storage.save(type, id, bytes, opts);
    if (type === "snapshots") await this.snapshotCache?.put(id, bytes);
    return id;
  }

  /** Loads, verifies (name, MAC, encoding) and returns a document's JSON bytes. */
  async loadUnpacked(type: UnpackedType, id: Id, opts?: CallOptions & { fresh?: boolean }): Promise<Buffer> {
    // Snapshot files never change (their name is their hash): a cached copy that still hashes to its name is them.
    // `fresh` (a check): read the repository's own copy, which is what may be damaged.
    const cache = type === "snapshots" && !opts?.fresh ? this.snapshotCache : undefined;
    const cached = await cache?.get(id);
    const bytes = cached ?? (await this.storage.load(type, id, undefined, opts));
    const plain = decodeUnpacked(this.key, this.version, type, id, bytes);
    if (cache && !cached) await cache.put(id, bytes);
    return plain;
  }

  async listSnapshots(opts?: CallOptions): Promise<Id[]> {
    const ids = (await this.storage.list("snapshots", opts)).map((f) => f.name).filter(isId);
    await this.snapshotCache?.retain(new Set(ids));
    return ids;
  }

  /** A snapshot document, parsed (its shape is the snapshot module's business). */
  async loadSnapshot(id: Id, opts?: CallOptions): Promise<unknown> {
    return parseDocument("snapshots", id, await this.loadUnpacked("snapshots", id, opts));
  }

  deleteSnapshot(id: Id, opts?: CallOptions): Promise<void> {
    return this.storage.remove("snapshots", id, opts);
  }

  /** Stops the transport. Unflushed blobs are dropped (nothing names them; the next run writes them again). */
  async close(): Promise<void> {
    // A repository made by initAhead is finished even when the run is not (else its key file would be left alone).
    await this.created.catch(() => {});
    await Promise.allSettled([...this.uploads].map((u) => u.done));
    for (const writer of this.writers.values()) await writer.staged?.discard();
    this.writers.clear();
    await this.storage.close();
  }
}

/**
 * Key files an interrupted init left behind (killed between its key file and its config) in a folder that holds
 * nothing else: they open with the same password but belong to no repository, and restic, which tries key files in
 * listing order, would open one of them and then fail on the new config. With any pack, index or snapshot present they
 * are kept (the only way left to that data's master key).
 */
async function removeOrphanKeys(storage: Storage, opts: CallOptions): Promise<void> {
  const keys = (await storage.list("keys", opts)).map((f) => f.name).filter(isId);
  if (keys.length === 0) return;
  for (const type of ["data", "index", "snapshots"] as const) if ((await storage.list(type, opts)).some((f) => isId(f.name))) return;
  for (const id of keys) await storage.remove("keys", id, opts);
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
