// The read side of the `repository` storage format (a restic repository in the backup folder): list, open (read and
// restore), check. It serves snapshots restic itself wrote — their own group, host + paths — as well as ours, so a
// folder holding a restic repository is listed, browsed, verified, restored and exported by every backup command.
// The writing side (backup into the repository, forget, prune, the keys model) plugs in beside it: until then this
// format is read-only, opened with the backup passphrase.
//
// Snapshot summaries: id = the snapshot file's ID (its name too: restic snapshots have no other); host = hostname;
// agent = the tag `agent:<id>`; paths = the document's paths (restic's group is host + paths); counts, items and the
// layout from the product's own top-level field `openclaw_workspace_sync` when present (our snapshots), else from
// restic's `summary` (restic ≥ 0.17), else unknown.
import type { Unlock } from "../../crypto/index.js";
import { groupKey } from "../../groups.js";
import type { BackupJob } from "../../job.js";
import { OperationError, UsageError } from "../../../util/errors.js";
import type { CheckOptions, CheckReport, FormatListing, Leftover, SnapshotReader, SnapshotSummary, StorageFormat, WriteJournal, Committed } from "../format.js";
import type { Folder } from "../folder.js";
import { RcloneStorage } from "./backend.js";
import { checkRepository } from "./checker.js";
import { WrongPasswordError } from "./errors.js";
import { type Id, isId } from "./ids.js";
import { IdleClosingStorage } from "./idle-storage.js";
import { openRepositorySnapshot } from "./reader.js";
import { Repository } from "./repository.js";
import { decodeSnapshot, type SnapshotDoc } from "./snapshot-doc.js";

export const REPOSITORY = "repository";
/** The product's field in a snapshot document (restic ignores unknown fields). */
export const PRODUCT_FIELD = "openclaw_workspace_sync";
export const PRODUCT_TAG = "openclaw-workspace-sync";

interface ProductField {
  items?: { item?: string; path?: string; livePath?: string }[];
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
      .map((i) => ({ ...(str(i.item) ? { item: i.item } : {}), ...(str(i.path) ? { path: i.path } : {}), ...(str(i.livePath) ? { livePath: i.livePath } : {}) }));
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
    return r.ok ? { snapshot: s, ok: true, found: r.found } : { snapshot: s, ok: false, error: r.errors.join("; ") };
  });
  const owned = new Set(report.snapshots.flatMap((s) => s.errors));
  return {
    results,
    problems: report.errors.map((e) => e.message).filter((m) => !owned.has(m)),
    hints: report.hints.map((h) => h.message),
  };
}

class RepositoryReadFormat implements StorageFormat {
  readonly name = REPOSITORY;
  readonly writable = false;
  readonly checksStructure = true;
  private repo: Promise<Repository | undefined> | undefined;
  private docs = new Map<Id, ListedDoc>();

  constructor(
    private readonly job: BackupJob,
    private readonly folder: Folder,
  ) {}

  /** The repository in the folder, opened once; undefined when the folder holds none. */
  private repository(): Promise<Repository | undefined> {
    this.repo ??= (async () => {
      const objects = await this.folder.objects();
      if (!objects.has("config")) return undefined;
      const password = this.job.config.passphrase;
      if (!password) throw new UsageError(`the backup folder ${this.job.remote.display} holds a restic repository: set backup.passphrase (its password) to read it`);
      const access = this.folder.access;
      const storage = new IdleClosingStorage(
        () =>
          new RcloneStorage({
            bin: access.bin,
            configPath: access.remote.configPath,
            remotePath: access.remote.path(""),
            env: access.env,
            display: access.remote.display,
            ...(access.onSpawn ? { onSpawn: access.onSpawn } : {}),
          }),
        access.remote.display,
      );
      return Repository.open(storage, password, access.signal ? { signal: access.signal } : {});
    })();
    const pending = this.repo;
    pending.catch(() => {
      if (this.repo === pending) this.repo = undefined;
    });
    return pending;
  }

  async list(): Promise<FormatListing> {
    let repo: Repository | undefined;
    try {
      repo = await this.repository();
    } catch (err) {
      // A repository this install cannot open does not hide the folder's other snapshots: it is listed as damaged.
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

  private opened(): Promise<Repository> {
    return this.repository().then((r) => {
      if (!r) throw new OperationError(`there is no restic repository in ${this.job.remote.display}`);
      return r;
    });
  }

  write(): Promise<Committed> {
    return Promise.reject(new UsageError('backups into the repository format come with backup.format "repository": this version reads repositories only'));
  }

  open(s: SnapshotSummary, _keys: Unlock): SnapshotReader {
    if (!isId(s.id)) throw new Error(`${s.name} is not a repository snapshot`);
    const doc = this.docs.get(s.id)?.doc;
    const opts = { ...(doc ? { snapshot: doc } : {}), ...(s.bytes !== undefined ? { totalBytes: s.bytes } : {}) };
    let reader: SnapshotReader | undefined;
    const get = async () => (reader ??= openRepositorySnapshot(await this.opened(), s.id, opts));
    return {
      // Reading data holds a shared lock, as `restic restore` does: a prune (exclusive) cannot delete packs meanwhile.
      entries: (visit, ro) => this.locked(async () => (await get()).entries(visit, ro)),
      nodes: async (visit, ro) => (await get()).nodes!(visit, ro),
    };
  }

  /** Runs with a shared repository lock (released on every path). */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const repo = await this.opened();
    const lock = await repo.lock({ exclusive: false, ...(this.job.signal ? { signal: this.job.signal } : {}) });
    try {
      return await fn();
    } finally {
      await lock.release().catch(() => {});
    }
  }

  async check(opts: CheckOptions): Promise<CheckReport> {
    // A shared lock, not restic's exclusive one: backups may go on meanwhile (they only add; what they add before
    // their index is written shows as a hint), while a prune cannot remove what is being checked.
    return this.locked(async () => checkForFormat(await this.opened(), opts));
  }

  async forget(snapshots: SnapshotSummary[], _journal: WriteJournal): Promise<{ removed: SnapshotSummary[]; errors: string[] }> {
    return { removed: [], errors: snapshots.map((s) => `${s.shortId}: this version reads restic repositories but does not change them (use restic forget)`) };
  }

  async cleanup(_leftovers: Leftover[]): Promise<string[]> {
    return [];
  }
}

export function createRepositoryReadFormat(job: BackupJob, folder: Folder): StorageFormat {
  return new RepositoryReadFormat(job, folder);
}
