// The archive format: one streaming object per snapshot (tar → zstd → age, `rclone rcat`) plus a small manifest
// written last. Snapshot ID: the SHA-256 of the manifest object as stored (stable for manifests written before IDs
// existed, unique because each manifest names its own object). Group: the manifest's host and paths (derived from
// its roots and items for manifests written before paths were recorded: see pathsOf).
import path from "node:path";
import type { Transform } from "node:stream";
import type { BackupItem } from "../../../config/types.js";
import type { Unlock } from "../../crypto/index.js";
import { tallyEntries } from "../../entry-rules.js";
import { groupKey } from "../../groups.js";
import { includedPaths } from "../../items.js";
import type { BackupJob } from "../../job.js";
import { manifestCacheFile } from "../../state.js";
import type { CheckReport, CheckResult, CheckOptions, Committed, FormatListing, Leftover, SnapshotDraft, SnapshotReader, SnapshotSummary, StorageFormat, WriteJournal } from "../format.js";
import type { Folder } from "../folder.js";
import { describeEncryption, encryptionFor } from "./encryption.js";
import { type ArchiveListing, type ArchiveSnapshot, listArchive } from "./listing.js";
import type { Manifest } from "./manifest.js";
import { manifestNameFor } from "./naming.js";
import { stopOrphanUploads } from "./orphan-uploads.js";
import { openArchiveSnapshot } from "./read.js";
import { writeArchive } from "./write.js";

export const ARCHIVE = "archive";

/**
 * The included live paths of a snapshot. Manifests written before paths were recorded get them derived from what
 * they do record — the included items (found or missing), the workspace and state roots, the config file's and the
 * credentials folder's live paths — by the same rule new snapshots use, so an upgrade does not start a new group.
 * Without roots (hand-made manifests) the item locations themselves are used.
 */
export function pathsOf(m: Manifest): string[] {
  if (m.paths) return [...m.paths].sort();
  const located = [...(m.items ?? []), ...(m.missing ?? [])];
  const include = [...new Set<BackupItem>([...located.map((l) => l.item), ...(m.missingItems ?? [])])];
  const workspace = m.roots?.workspace;
  const state = m.roots?.state;
  if (!workspace || !state) return [...new Set(located.map((l) => path.resolve(l.livePath)))].sort();
  const liveOf = (item: BackupItem) => located.find((l) => l.item === item)?.livePath;
  const configFile = liveOf("config") ?? path.join(state, "openclaw.json");
  const oauth = liveOf("credentials");
  return includedPaths(include, { stateDir: state, workspaceDir: workspace, configFile, env: oauth ? { OPENCLAW_OAUTH_DIR: oauth } : {} });
}

export function summaryOf(s: Pick<ArchiveSnapshot, "name" | "id" | "manifest" | "created" | "sequence">): SnapshotSummary {
  const m = s.manifest;
  const paths = pathsOf(m);
  const host = m.host ?? "";
  return {
    format: ARCHIVE,
    id: s.id,
    shortId: s.id.slice(0, 8),
    name: s.name,
    time: s.created,
    order: s.sequence,
    host,
    agent: m.agent ?? "",
    paths,
    group: groupKey(host, paths),
    managed: true,
    files: m.files,
    bytes: m.bytes,
    storedBytes: m.stored.size,
    items: [...new Set(m.items.map((i) => i.item))],
    missingItems: m.missingItems ?? [],
    encryption: describeEncryption(m.encryption),
    layout: m.items.map((i) => ({ item: i.item, path: i.archivePath, livePath: i.livePath })),
    ...(m.fingerprint ? { fingerprint: m.fingerprint } : {}),
  };
}

class ArchiveFormat implements StorageFormat {
  readonly name = ARCHIVE;
  readonly writable = true;
  private last?: ArchiveListing;
  private early?: Transform;

  constructor(
    private readonly job: BackupJob,
    private readonly folder: Folder,
  ) {}

  private async listing(): Promise<ArchiveListing> {
    this.last = await listArchive(this.folder, manifestCacheFile(this.job.stateDir));
    return this.last;
  }

  async list(): Promise<FormatListing> {
    const l = await this.listing();
    return {
      snapshots: l.snapshots.map(summaryOf),
      damaged: l.damaged.map((d) => {
        const paths = pathsOf(d.manifest);
        return { format: ARCHIVE, name: d.name, id: d.id, shortId: d.id.slice(0, 8), group: groupKey(d.manifest.host ?? "", paths), problem: d.problem };
      }),
      leftovers: l.leftovers.map((x): Leftover => ({ format: ARCHIVE, object: x.object, owner: x.snapshot, modTime: x.modTime, reason: x.reason })),
    };
  }

  async stopStrayWriters(): Promise<void> {
    await stopOrphanUploads(this.folder.remote, this.job.log);
  }

  prepareWrite(): void {
    // The age header's key derivation (scrypt, ~0.2 s of CPU, on the thread pool) starts while the folder is listed.
    this.early ??= encryptionFor(this.job.config).create();
  }

  async write(draft: SnapshotDraft): Promise<Committed> {
    const listing = this.last ?? (await this.listing());
    const early = this.early;
    this.early = undefined;
    // -v shows the rclone commands of a remote; a local folder has none, so say what is written where.
    const local = this.folder.remote.localDir;
    const started = performance.now();
    if (local !== undefined) this.job.log.debug(`write: into ${local} directly (a local folder: no rclone)`);
    const written = await writeArchive(this.folder, this.job.config, this.job.now, listing, draft, early);
    this.last = undefined;
    const m = written.manifest;
    if (local !== undefined) this.job.log.debug(`wrote ${written.name} (${m.stored.size} bytes) in ${((performance.now() - started) / 1000).toFixed(1)}s`);
    return {
      snapshot: summaryOf({ name: written.name, id: written.id, manifest: m, created: draft.time, sequence: m.sequence ?? 0 }),
      files: m.files,
      bytes: m.bytes,
      storedBytes: m.stored.size,
    };
  }

  private snapshot(s: SnapshotSummary): ArchiveSnapshot {
    const found = this.last?.snapshots.find((x) => x.name === s.name);
    if (!found) throw new Error(`${s.name} is not an archive snapshot of this listing`);
    return found;
  }

  open(s: SnapshotSummary, keys: Unlock): SnapshotReader {
    const snap = this.snapshot(s);
    return openArchiveSnapshot(this.folder, snap.name, snap.manifest, keys);
  }

  async check(opts: CheckOptions): Promise<CheckReport> {
    const results: CheckResult[] = [];
    // Each snapshot is one object, read whole or not at all: a subset reads that share of the snapshots (the first
    // ones given) and checks the structure of the rest.
    const reading = opts.readData ? Math.ceil(opts.snapshots.length * Math.min(1, Math.max(0, opts.subset ?? 1))) : 0;
    for (const [i, s] of opts.snapshots.entries()) {
      // Structure: the listing already matched each stored object's size against its manifest.
      if (i >= reading) {
        results.push({ snapshot: s, ok: true });
        continue;
      }
      const snap = this.snapshot(s);
      const reader = this.open(s, opts.keys); // a missing key is a usage error, thrown
      try {
        const read = await tallyEntries(reader, opts);
        if (read.found.files !== snap.manifest.files) throw new Error(`snapshot ${s.name} holds ${read.found.files} files, its manifest says ${snap.manifest.files}`);
        results.push({ snapshot: s, ok: true, ...read });
      } catch (err) {
        results.push({ snapshot: s, ok: false, error: (err as Error).message });
      }
    }
    return { results, problems: [] };
  }

  async forget(snapshots: SnapshotSummary[], journal: WriteJournal): Promise<{ removed: SnapshotSummary[]; errors: string[] }> {
    const removed: SnapshotSummary[] = [];
    const errors: string[] = [];
    for (const s of snapshots) {
      try {
        // Recorded first: a run killed between the manifest and the data object leaves a data object the next run
        // can prove is its own and removes.
        await journal.begin(s.name);
        // The manifest first: from then on the snapshot no longer exists.
        await this.folder.delete(manifestNameFor(s.name));
        await this.folder.delete(s.name);
        await journal.end(s.name);
        removed.push(s);
      } catch (err) {
        errors.push(`could not delete ${s.name}: ${(err as Error).message}`);
      }
    }
    this.folder.refresh();
    this.last = undefined;
    return { removed, errors };
  }

  async cleanup(leftovers: Leftover[], opts: { dryRun: boolean }): Promise<string[]> {
    const mine = leftovers.filter((l) => l.format === ARCHIVE);
    if (opts.dryRun) return mine.map((l) => l.object);
    const removed: string[] = [];
    for (const l of mine) {
      await this.folder.delete(l.object);
      removed.push(l.object);
    }
    if (removed.length) {
      this.folder.refresh();
      this.last = undefined;
    }
    return removed;
  }
}

export function createArchiveFormat(job: BackupJob, folder: Folder): StorageFormat {
  return new ArchiveFormat(job, folder);
}
