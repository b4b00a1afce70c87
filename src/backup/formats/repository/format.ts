// The `repository` storage format: a restic repository (format version 2) in the backup folder, behind the
// format-neutral StorageFormat interface. write = archiver (archiver.ts) under a shared lock, then flush (packs, then
// index), then the snapshot file; list/open/check serve our snapshots and restic's own (their group: host + paths);
// forget removes snapshot files under an exclusive lock (right after a backup: under that backup's shared lock, see
// forget()); prune (prune.ts) removes what no snapshot references.
// The password: password.ts (the passphrase, or a random one kept for `recipients`).
//
// Snapshot summaries: id = the snapshot file's ID (its name too: restic snapshots have no other); host = hostname;
// agent = the tag `agent:<id>`; paths = the document's paths (restic's group is host + paths); counts, items and the
// layout from the product's own top-level field `openclaw_workspace_sync` when present (our snapshots), else from
// restic's `summary` (restic ≥ 0.17), else unknown.
import type { Unlock } from "../../crypto/index.js";
import { groupKey } from "../../groups.js";
import type { BackupJob } from "../../job.js";
import { OperationError, UsageError } from "../../../util/errors.js";
import type { CheckOptions, CheckReport, Committed, FormatListing, Leftover, SnapshotDraft, SnapshotReader, SnapshotSummary, StorageFormat, WriteJournal } from "../format.js";
import type { Folder } from "../folder.js";
import { RCLONE_READ_SHAPE, RcloneStorage } from "./backend.js";
import { DirStorage } from "./backend-dir.js";
import { keyHint, keyHintSync, rememberKey } from "./key-hints.js";
import { FileCache } from "./index-cache.js";
import { deriveUserKeyAhead, dropUserKeyAhead, parseKeyFile } from "./key.js";
import { checkRepository } from "./checker.js";
import { BackendError, WrongPasswordError } from "./errors.js";
import { type Id, isId } from "./ids.js";
import { IdleClosingStorage } from "./idle-storage.js";
import { ensureIndex, openRepositorySnapshot } from "./reader.js";
import { Repository } from "./repository.js";
import { decodeSnapshot, encodeSnapshot, type SnapshotDoc } from "./snapshot-doc.js";
import os from "node:os";
import path from "node:path";
import { productDir } from "../../../state/paths.js";
import { transientRoot } from "../../state.js";
import { archiveEntries } from "./archiver.js";
import { goTimeFromNs } from "./go-time.js";
import { repositoryPassword } from "./password.js";
import { pruneRepository } from "./prune.js";
import { loadFolderRecords, saveFolderRecords } from "./folder-records.js";
import type { RepositoryLock } from "./lock.js";
import type { Compression } from "./repository.js";

export const REPOSITORY = "repository";
/** The product's field in a snapshot document (restic ignores unknown fields). */
export const PRODUCT_FIELD = "openclaw_workspace_sync";
export const PRODUCT_TAG = "openclaw-workspace-sync";

interface ProductField {
  items?: { item?: string; path?: string; livePath?: string; type?: string }[];
  missingItems?: string[];
  fingerprint?: string;
  files?: number;
  bytes?: number;
  storedBytes?: number;
}

export interface ListedDoc {
  id: Id;
  doc: SnapshotDoc;
  product?: ProductField;
}

const str = (v: unknown): v is string => typeof v === "string";
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

/** The product's field of a decoded snapshot document's JSON, shape-checked field by field (never trusted whole). */
export function productField(json: unknown): ProductField | undefined {
  const raw = (json as Record<string, unknown> | null)?.[PRODUCT_FIELD];
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const out: ProductField = {};
  if (Array.isArray(r.items)) {
    out.items = r.items
      .filter((i): i is Record<string, unknown> => !!i && typeof i === "object")
      .map((i) => ({
        ...(str(i.item) ? { item: i.item } : {}),
        ...(str(i.path) ? { path: i.path } : {}),
        ...(str(i.livePath) ? { livePath: i.livePath } : {}),
        ...(str(i.type) ? { type: i.type } : {}),
      }));
  }
  if (Array.isArray(r.missingItems)) out.missingItems = r.missingItems.filter(str);
  if (str(r.fingerprint)) out.fingerprint = r.fingerprint;
  for (const k of ["files", "bytes", "storedBytes"] as const) {
    const v = num(r[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A snapshot document as every command sees it. */
export function summarizeSnapshot(d: ListedDoc): SnapshotSummary {
  const { doc, product } = d;
  const host = doc.hostname ?? "";
  const paths = [...(doc.paths ?? [])].sort();
  const agent = doc.tags?.find((t) => t.startsWith("agent:"))?.slice("agent:".length) ?? "";
  const files = product?.files ?? doc.summary?.totalFilesProcessed;
  const bytes = product?.bytes ?? (doc.summary?.totalBytesProcessed !== undefined ? Number(doc.summary.totalBytesProcessed) : undefined);
  const stored = product?.storedBytes ?? (doc.summary?.dataAddedPacked !== undefined ? Number(doc.summary.dataAddedPacked) : undefined);
  const layout = (product?.items ?? []).filter((i) => i.item && i.path && i.livePath).map((i) => ({ item: i.item!, path: i.path!, livePath: i.livePath! }));
  return {
    format: REPOSITORY,
    id: d.id,
    shortId: d.id.slice(0, 8),
    name: d.id,
    time: new Date(doc.time.sec * 1000 + Math.floor(doc.time.nsec / 1e6)),
    order: 0,
    host,
    agent,
    paths,
    group: groupKey(host, paths),
    managed: true,
    ...(files !== undefined ? { files } : {}),
    ...(bytes !== undefined ? { bytes } : {}),
    ...(stored !== undefined ? { storedBytes: stored } : {}),
    items: [...new Set(layout.map((l) => l.item))],
    missingItems: product?.missingItems ?? [],
    encryption: "restic (repository key)",
    layout,
    ...(product?.fingerprint ? { fingerprint: product.fingerprint } : {}),
  };
}

/** Loads every snapshot document (a few at once); unreadable ones come back apart, with the reason. */
export async function loadSnapshotDocs(repo: Repository, signal?: AbortSignal): Promise<{ docs: ListedDoc[]; unreadable: { id: Id; problem: string }[] }> {
  const ids = await repo.listSnapshots(signal ? { signal } : {});
  const docs: ListedDoc[] = [];
  const unreadable: { id: Id; problem: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        const bytes = await repo.loadUnpacked("snapshots", id, signal ? { signal } : {});
        const doc = decodeSnapshot(bytes);
        let product: ProductField | undefined;
        try {
          product = productField(JSON.parse(bytes.toString("utf8")));
        } catch {
          product = undefined;
        }
        docs.push({ id, doc, ...(product ? { product } : {}) });
      } catch (err) {
        if (signal?.aborted) throw err;
        unreadable.push({ id, problem: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, ids.length) }, worker));
  return { docs, unreadable };
}

/** Maps the checker's report onto the format interface's. */
export async function checkForFormat(repo: Repository, opts: CheckOptions): Promise<CheckReport> {
  const report = await checkRepository(repo, {
    snapshots: opts.snapshots.map((s) => s.id),
    readData: opts.readData,
    ...(opts.subset !== undefined ? { subset: opts.subset } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onBytes ? { onBytes: opts.onBytes } : {}),
  });
  const results = opts.snapshots.map((s) => {
    const r = report.snapshots.find((x) => x.id === s.id);
    if (!r) return { snapshot: s, ok: false, error: "not checked" };
    if (r.gone) return { snapshot: s, ok: false, gone: true, error: r.errors.join("; ") };
    return r.ok ? { snapshot: s, ok: true, found: r.found } : { snapshot: s, ok: false, error: r.errors.join("; ") };
  });
  const owned = new Set(report.snapshots.flatMap((s) => s.errors));
  return {
    results,
    problems: report.errors.map((e) => e.message).filter((m) => !owned.has(m)),
    hints: report.hints.map((h) => h.message),
  };
}


/** The live folder behind a snapshot folder the walk does not visit (e.g. "state" → the state dir). */
export function liveDirResolver(draft: Pick<SnapshotDraft, "roots" | "items">): (snapshotPath: string) => string | undefined {
  return (snapshotPath) => {
    if (draft.roots[snapshotPath]) return draft.roots[snapshotPath];
    for (const item of draft.items) {
      if (!item.path.startsWith(`${snapshotPath}/`)) continue;
      const below = item.path.slice(snapshotPath.length + 1).split("/");
      let live = item.livePath;
      for (let i = below.length - 1; i >= 0; i--) {
        if (path.basename(live) !== below[i]) return undefined;
        live = path.dirname(live);
      }
      return live;
    }
    return undefined;
  };
}

const COMPRESSION: Record<string, Compression> = { zstd: "auto", gzip: "auto", none: "off" };

class RepositoryFormat implements StorageFormat {
  readonly name = REPOSITORY;
  readonly writable = true;
  readonly checksStructure = true;
  readonly wantsStats = true;
  private repo: Promise<Repository | undefined> | undefined;
  /**
   * Transports made for the repository, closed with the format: also those no repository took (started while the
   * folder was listed, which then held none; or the opening failed), whose rclone would otherwise outlive the command.
   */
  private readonly transports = new Set<IdleClosingStorage>();
  private docs = new Map<Id, ListedDoc>();
  /**
   * The shared lock of this run's committed backup, kept for the retention that follows it (forget) and released by
   * forget or close: see forget().
   */
  private writeLock: RepositoryLock | undefined;

  constructor(
    private readonly job: BackupJob,
    private readonly folder: Folder,
  ) {}

  private storage(): IdleClosingStorage {
    const access = this.folder.access;
    // A local folder is written directly, as restic writes a local path (no rclone child, no pipe, renamed into place).
    const localDir = access.remote.localDir;
    if (localDir) return new IdleClosingStorage(() => new DirStorage(localDir, access.remote.display), access.remote.display);
    return new IdleClosingStorage(
      () =>
        new RcloneStorage({
          bin: access.bin,
          configPath: access.remote.configPath,
          remotePath: access.remote.path(""),
          env: access.env,
          display: access.remote.display,
          // An object store's PUT is atomic: no staging (and its copy + delete) needed there.
          ...(access.remote.isBucketStore ? { stagedSaves: false } : {}),
          // S3: no HEAD after each upload (the PUT's MD5 is checked). Not --s3-no-head-object: with it rclone answers a
          // HEAD of a missing file as found, and the repository's existence checks would lie.
          ...(access.remote.backendType === "s3" ? { extraArgs: ["--s3-no-head"] } : {}),
          ...(access.onSpawn ? { onSpawn: access.onSpawn } : {}),
          // Data packs fill a file here and are uploaded from it (not held in memory); a killed run's are removed
          // when the next backup starts (it holds the backup lock, as prune does).
          spoolDir: path.join(transientRoot(this.job.stateDir), "spool"),
        }),
      access.remote.display,
      { readShape: RCLONE_READ_SHAPE },
    );
  }

  private repoOptions() {
    return {
      compression: COMPRESSION[this.job.config.compression] ?? "auto",
      cacheDir: path.join(productDir(this.job.stateDir), "repository-cache"),
      ...(this.job.signal ? { signal: this.job.signal } : {}),
    };
  }

  /**
   * The repository in the folder, opened once; undefined when the folder holds none (unless `create`: then it is
   * made, as `restic init --repository-version 2` would). `identities`: --identity, for a recipients password.
   */
  private async repository(create = false, identities?: string[]): Promise<Repository | undefined> {
    if (this.repo && create && (await this.repo.catch(() => undefined)) === undefined) this.repo = undefined; // listed before it existed
    this.repo ??= (async () => {
      this.deriveKeyAhead();
      const storage = this.storage();
      this.transports.add(storage);
      // A backup needs the transport whatever the listing finds, and a folder configured for this format almost always
      // holds a repository: its rclone starts, and reaches the remote, while the folder is listed (over sftp each is a
      // process start and an SSH handshake, ~0.1 s). Where there is none after all, it is closed once idle.
      const warm = create || this.job.config.format === REPOSITORY;
      const early = warm ? storage.hold() : undefined;
      if (warm) storage.warm();
      try {
        const objects = await this.folder.objects();
        const exists = objects.has("config");
        if (!exists && !create) return undefined;
        const password = await repositoryPassword({
          config: this.job.config,
          stateDir: this.job.stateDir,
          folder: this.folder,
          creating: !exists,
          ...(identities ? { identities } : {}),
        });
        // One rclone session from the key file to the first write (key derivation takes longer than the idle close).
        const release = storage.hold();
        try {
          const opts = this.repoOptions();
          if (exists) {
            const hint = await keyHint(opts.cacheDir, this.job.remote.path(""));
            const repo = await Repository.open(storage, password, { ...opts, configKnown: true, ...(hint ? { keyHint: hint } : {}) });
            if (repo.keyId !== hint) await rememberKey(opts.cacheDir, this.job.remote.path(""), repo.keyId);
            return repo;
          }
        } finally {
          release();
        }
        // The run goes on while the key file and config are written (calibrating the key takes ~1 s); everything it
        // writes waits for them.
        const repo = await Repository.initAhead(storage, password, this.repoOptions());
        void repo.created.then(
          async () => {
            await rememberKey(this.repoOptions().cacheDir, this.job.remote.path(""), repo.keyId);
            this.folder.refresh();
            this.job.log.info(`created a restic repository (format version 2) at ${this.job.remote.display}`);
          },
          () => {},
        );
        return repo;
      } finally {
        early?.();
      }
    })();
    const pending = this.repo;
    pending.catch(() => {
      if (this.repo === pending) this.repo = undefined;
    });
    // A key derived ahead that the opening did not take (another key opened, or none was needed) is not kept.
    void pending.finally(dropUserKeyAhead).catch(() => {});
    return pending;
  }

  /**
   * With a passphrase and the key that opened here last time kept locally, its scrypt starts now, on the thread pool,
   * while rclone starts and lists the folder (~70 ms of a short run) — searchKey takes it over when that key still
   * opens. Anything missing or odd: nothing is started, and the opening derives as always.
   */
  private deriveKeyAhead(): void {
    const password = this.job.config.passphrase;
    if (!password) return;
    try {
      // Synchronous reads of two small files: an awaited read would wait behind the walk that starts next.
      const { cacheDir } = this.repoOptions();
      const hint = keyHintSync(cacheDir, this.job.remote.path(""));
      const bytes = hint && FileCache.keyFiles(cacheDir).getSync(hint);
      if (!hint || !bytes) return;
      const file = parseKeyFile(bytes, hint);
      deriveUserKeyAhead(password, Buffer.from(file.salt, "base64"), { N: file.N, r: file.r, p: file.p });
    } catch {
      // the opening reads the key file again and reports what is wrong with it
    }
  }

  async list(): Promise<FormatListing> {
    let repo: Repository | undefined;
    try {
      repo = await this.repository();
    } catch (err) {
      // A repository this install cannot open does not hide the folder's other snapshots: it is listed as damaged.
      // One that cannot be reached is not damaged: that failure is the command's (remote down, network gone).
      if (err instanceof BackendError) throw err;
      if (err instanceof UsageError || err instanceof WrongPasswordError || err instanceof OperationError) {
        return { snapshots: [], damaged: [{ format: REPOSITORY, name: "restic repository", problem: (err as Error).message }], leftovers: [] };
      }
      throw err;
    }
    if (!repo) return { snapshots: [], damaged: [], leftovers: [] };
    const { docs, unreadable } = await loadSnapshotDocs(repo, this.job.signal);
    this.docs = new Map(docs.map((d) => [d.id, d]));
    return {
      snapshots: docs.map(summarizeSnapshot),
      damaged: unreadable.map((u) => ({ format: REPOSITORY, name: u.id, id: u.id, shortId: u.id.slice(0, 8), problem: u.problem })),
      leftovers: [],
    };
  }

  private opened(identities?: string[]): Promise<Repository> {
    return this.repository(false, identities).then((r) => {
      if (!r) throw new OperationError(`there is no restic repository in ${this.job.remote.display}`);
      return r;
    });
  }

  prepareWrite(): void {
    // scrypt of the key file runs while the folder is listed
    this.repository(true).catch(() => {});
  }

  async write(draft: SnapshotDraft): Promise<Committed> {
    const repo = await this.repository(true);
    if (!repo) throw new Error("unreachable: the repository was not created");
    const release = repo.storage instanceof IdleClosingStorage ? repo.storage.hold() : () => {};
    try {
      return await this.writeLocked(repo, draft);
    } finally {
      release();
    }
  }

  private async writeLocked(repo: Repository, draft: SnapshotDraft): Promise<Committed> {
    const signal = draft.signal;
    /** The lock once the snapshot is committed: held on for the retention that follows. */
    let keep: RepositoryLock | undefined;
    // The lock is taken while the files are already read and chunked (a repository this run creates can only hold it
    // once its key file and config are stored, ~1 s later); nothing is stored before the lock is there.
    const locking = repo.lock({ exclusive: false, confirmLater: true, signal, onRefreshError: (e) => draft.warn(`refreshing the repository lock failed: ${e.message}`) });
    const endHold = repo.holdWrites(locking);
    const lost = new AbortController();
    locking.then(
      (l) => (l.signal.aborted ? lost.abort(l.signal.reason) : l.signal.addEventListener("abort", () => lost.abort(l.signal.reason), { once: true })),
      (err: unknown) => lost.abort(err),
    );
    try {
      const both = AbortSignal.any([signal, lost.signal]);
      await ensureIndex(repo, both);
      const parent = draft.parent && isId(draft.parent.id) ? await this.parentTree(repo, draft.parent.id, draft.warn) : undefined;
      const { cacheDir } = this.repoOptions();
      const parentFolders = parent ? await loadFolderRecords(cacheDir, repo.config.id, repo.key, parent.id, repo.index.indexFiles) : undefined;
      const archived = await archiveEntries(repo, {
        entries: draft.entries,
        ...(parent ? { parentTree: parent.tree } : {}),
        ...(parentFolders ? { parentFolders } : {}),
        liveDirFor: liveDirResolver(draft),
        signal: both,
        onProgress: (bytes, files) => draft.onProgress(bytes, files),
        warn: draft.warn,
      });
      // The lock's second look for a conflicting (exclusive) lock ran while the files were read.
      const lock = await locking;
      await lock.confirmed;
      // Packs and their index first: the snapshot file, written last, is what makes the snapshot exist.
      await repo.flush({ signal: both });
      const sealed = draft.sealed();
      const stats = archived.stats;
      const doc: SnapshotDoc = {
        time: goTimeFromNs(BigInt(draft.time.getTime()) * 1_000_000n),
        ...(parent ? { parent: parent.id } : {}),
        tree: archived.tree,
        paths: [...draft.paths].sort(),
        hostname: draft.host,
        ...userOf(),
        tags: [PRODUCT_TAG, `agent:${draft.agent}`],
        summary: {
          backupStart: goTimeFromNs(BigInt(draft.time.getTime()) * 1_000_000n),
          backupEnd: goTimeFromNs(BigInt(Date.now()) * 1_000_000n),
          filesNew: stats.filesNew,
          filesChanged: stats.filesChanged,
          filesUnmodified: stats.filesUnmodified,
          dirsNew: stats.dirsNew,
          dirsChanged: stats.dirsChanged,
          dirsUnmodified: stats.dirsUnmodified,
          dataBlobs: stats.dataBlobs,
          treeBlobs: stats.treeBlobs,
          dataAdded: BigInt(stats.dataAdded),
          dataAddedPacked: BigInt(stats.dataAddedPacked),
          totalFilesProcessed: stats.files,
          totalBytesProcessed: BigInt(stats.bytes),
        },
      };
      const product: ProductField & { databases: string[]; warnings: string[]; missing: SnapshotDraft["missing"] } = {
        items: draft.items.map((i) => ({ item: i.item, path: i.path, livePath: i.livePath, type: i.type })),
        missingItems: draft.missingItems,
        missing: draft.missing,
        fingerprint: sealed.fingerprint,
        files: stats.files,
        bytes: stats.bytes,
        storedBytes: stats.dataAddedPacked,
        databases: sealed.databases,
        warnings: sealed.warnings.slice(0, 50),
      };
      // restic ignores fields it does not know: the product's record rides in the snapshot document itself.
      const json = `${encodeSnapshot(doc).slice(0, -1)},${JSON.stringify(PRODUCT_FIELD)}:${JSON.stringify(product)}}`;
      lock.signal.throwIfAborted();
      const id = await repo.saveUnpacked("snapshots", json, { signal });
      const listed: ListedDoc = { id, doc, product };
      this.docs.set(id, listed);
      keep = lock;
      await saveFolderRecords(cacheDir, repo.config.id, repo.key, id, archived.folders, repo.index.indexFiles);
      return { snapshot: summarizeSnapshot(listed), files: stats.files, bytes: stats.bytes, storedBytes: stats.dataAddedPacked };
    } catch (err) {
      // A lock that could not be taken (another tool's exclusive lock) stopped the run: say that, not "aborted".
      throw (await locking.then(
        () => undefined,
        (lockErr: unknown) => lockErr,
      )) ?? err;
    } finally {
      endHold();
      if (keep) this.writeLock = keep;
      else await (await locking.catch(() => undefined))?.release().catch(() => {});
    }
  }

  /** The parent snapshot's root tree; a parent that cannot be read only means reading every file again. */
  private async parentTree(repo: Repository, id: Id, warn: (m: string) => void): Promise<{ id: Id; tree: Id } | undefined> {
    try {
      const doc = this.docs.get(id)?.doc ?? decodeSnapshot(await repo.loadUnpacked("snapshots", id, this.job.signal ? { signal: this.job.signal } : {}));
      return { id, tree: doc.tree };
    } catch (err) {
      warn(`the parent snapshot ${id.slice(0, 8)} cannot be read (${(err as Error).message}): every file is read again`);
      return undefined;
    }
  }

  open(s: SnapshotSummary, keys: Unlock): SnapshotReader {
    if (!isId(s.id)) throw new Error(`${s.name} is not a repository snapshot`);
    const doc = this.docs.get(s.id)?.doc;
    const opts = { ...(doc ? { snapshot: doc } : {}), ...(s.bytes !== undefined ? { totalBytes: s.bytes } : {}) };
    let reader: SnapshotReader | undefined;
    const get = async () => (reader ??= openRepositorySnapshot(await this.opened(keys.identities), s.id, opts));
    /** The shared lock taken ahead by prepareRead(), until entries() takes it over. */
    let ahead: Promise<RepositoryLock> | undefined;
    return {
      // Reading data holds a shared lock, as `restic restore` does: a prune (exclusive) cannot delete packs meanwhile.
      entries: (visit, ro) => {
        const lock = ahead;
        ahead = undefined;
        return this.locked(false, async () => (await get()).entries(visit, ro), lock);
      },
      nodes: async (visit, ro) => (await get()).nodes!(visit, ro),
      prepareRead: () => {
        const lock = (ahead ??= this.lock(false));
        lock.catch(() => {}); // entries() reports it
        const decoder = get().then((r) => r.prepareRead?.(), () => undefined);
        return async () => {
          await (await decoder)?.();
          if (ahead !== lock) return; // entries() took it over (and releases it)
          ahead = undefined;
          await (await lock.catch(() => undefined))?.release().catch(() => {});
        };
      },
    };
  }

  /**
   * A shared lock is used as soon as its file is written: restic's second look for conflicting locks, 200 ms later,
   * runs meanwhile and locked() waits for it before it returns. Reading in those 200 ms is safe: a prune deletes only
   * after its own second look, which finds this lock, and every blob read is checked against its ID. (A restore spent
   * them idle before its first read.)
   */
  private async lock(exclusive: boolean): Promise<RepositoryLock> {
    const repo = await this.opened();
    return repo.lock({ exclusive, confirmLater: !exclusive, ...(this.job.signal ? { signal: this.job.signal } : {}) });
  }

  /**
   * Runs with a repository lock (released on every path): the one given (taken ahead), else one taken now. Its
   * confirmation is awaited before the result counts: a conflicting lock found then fails the command.
   */
  private async locked<T>(exclusive: boolean, fn: (repo: Repository) => Promise<T>, taken?: Promise<RepositoryLock>): Promise<T> {
    const lock = await (taken ?? this.lock(exclusive));
    try {
      const result = await fn(await this.opened());
      await lock.confirmed;
      return result;
    } finally {
      await lock.release().catch(() => {});
    }
  }

  async check(opts: CheckOptions): Promise<CheckReport> {
    // A shared lock, not restic's exclusive one: backups may go on meanwhile (they only add; what they add before
    // their index is written shows as a hint), while a prune cannot remove what is being checked.
    return this.locked(false, async (repo) => checkForFormat(repo, opts));
  }

  async forget(snapshots: SnapshotSummary[], _journal: WriteJournal): Promise<{ removed: SnapshotSummary[]; errors: string[] }> {
    const removed: SnapshotSummary[] = [];
    const errors: string[] = [];
    const remove = async (repo: Repository) => {
      for (const s of snapshots) {
        try {
          await repo.deleteSnapshot(s.id, this.job.signal ? { signal: this.job.signal } : {});
          this.docs.delete(s.id);
          removed.push(s);
        } catch (err) {
          errors.push(`${s.shortId}: ${(err as Error).message}`);
        }
      }
    };
    try {
      const held = this.takeWriteLock();
      if (held) {
        // Retention right after this run's backup: under the backup's shared lock, still held. What restic's forget
        // gets from its exclusive lock holds here too: no prune (ours or restic's) or restic check can start while
        // the lock exists, so nothing is deleted from under a snapshot being forgotten; a backup running meanwhile
        // only adds, and one that took a forgotten snapshot as its parent keeps its data by referencing it; a verify
        // (shared) that listed a forgotten snapshot reports it gone (checker.ts). This saves a second lock (its
        // file, restic's 200 ms wait and a listing) on every run.
        try {
          held.signal.throwIfAborted();
          await remove(await this.opened());
        } finally {
          await held.release().catch(() => {});
        }
      } else {
        // restic's forget holds an exclusive lock: no prune or check is looking at these snapshots meanwhile.
        await this.locked(true, remove);
      }
    } catch (err) {
      const left = snapshots.filter((s) => !removed.includes(s));
      errors.push(`${left.map((s) => s.shortId).join(", ")} kept for now: ${(err as Error).message}`);
    }
    return { removed, errors };
  }

  /**
   * `backup prune`: removes what no snapshot references (restic's prune) under an exclusive lock — no backup, ours or
   * restic's, adds packs meanwhile. Refuses on a damaged repository (changes nothing then).
   */
  async prune(opts: { dryRun: boolean; signal?: AbortSignal }): Promise<{ removed: string[]; freedBytes: number }> {
    if (!(await this.repository())) return { removed: [], freedBytes: 0 };
    return this.locked(true, async (repo) => {
      const r = await pruneRepository(repo, { dryRun: opts.dryRun, ...(opts.signal ? { signal: opts.signal } : {}), onProgress: (m) => this.job.log.debug(`prune: ${m}`) });
      return { removed: r.removed, freedBytes: r.freedBytes };
    });
  }

  /** This run's backup lock when it is still valid (at most once), or undefined: forget then locks on its own. */
  private takeWriteLock(): RepositoryLock | undefined {
    const held = this.writeLock;
    this.writeLock = undefined;
    if (held?.signal.aborted) {
      void held.release().catch(() => {});
      return undefined;
    }
    return held;
  }

  /** Ends the rclone transport now (instead of after its idle time): a CLI run ends without waiting for it. */
  async close(): Promise<void> {
    await this.takeWriteLock()?.release().catch(() => {});
    const pending = this.repo;
    this.repo = undefined;
    const repo = await pending?.catch(() => undefined);
    await repo?.close().catch(() => {});
    for (const t of this.transports) await t.close().catch(() => {});
    this.transports.clear();
  }

  async cleanup(_leftovers: Leftover[]): Promise<string[]> {
    // A killed backup leaves only packs no index names; prune removes them (under its exclusive lock).
    return [];
  }
}

function userOf(): { username?: string; uid?: number; gid?: number } {
  try {
    const u = os.userInfo();
    return { username: u.username, ...(u.uid > 0 ? { uid: u.uid } : {}), ...(u.gid > 0 ? { gid: u.gid } : {}) };
  } catch {
    return {};
  }
}

export function createRepositoryFormat(job: BackupJob, folder: Folder): StorageFormat {
  return new RepositoryFormat(job, folder);
}
