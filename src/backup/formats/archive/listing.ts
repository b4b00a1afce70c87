// The archive format's view of the backup folder. Only objects named like ours with a valid manifest written by this
// product are snapshots; our data objects without a valid manifest (and partial uploads, and manifests that do not
// parse) are leftovers of interrupted runs; everything else (`backup-family-photos.zip`, the older plugin's
// snapshots, a restic repository's folders) is not ours and never touched. Manifests are immutable, so each is
// fetched once and cached under the state dir with its ID (the SHA-256 of the manifest as stored).
import { createHash } from "node:crypto";
import { readJson, writeJson } from "../../../state/state-store.js";
import type { Folder } from "../folder.js";
import { type Manifest, parseManifest } from "./manifest.js";
import { parseOurName, snapshotOfManifest } from "./naming.js";

export interface ArchiveSnapshot {
  name: string;
  /** SHA-256 of the manifest object as stored: the snapshot's ID. */
  id: string;
  manifest: Manifest;
  created: Date;
  /** Commit order (manifest.sequence, 0 for older manifests). */
  sequence: number;
  /** Size of the data object as listed. */
  size: number;
}

export interface ArchiveDamaged {
  name: string;
  id: string;
  manifest: Manifest;
  problem: string;
}

export interface ArchiveLeftover {
  /** Object to delete (a data object, a partial upload or an invalid manifest). */
  object: string;
  /** The snapshot name it belongs to: the key its run recorded in the journal. */
  snapshot: string;
  /** Modification time from the listing. */
  modTime: Date;
  reason: string;
}

export interface ArchiveListing {
  /** Complete snapshots, newest first (sequence, then creation time). */
  snapshots: ArchiveSnapshot[];
  damaged: ArchiveDamaged[];
  leftovers: ArchiveLeftover[];
  /** Every object name in the folder (for unique names). */
  names: Set<string>;
}

const PARTIAL = ".partial";
const MANIFEST_LIMIT = 1 << 20;
const CONCURRENCY = 4;

interface CachedManifest {
  id: string;
  manifest: Manifest;
}
type Cache = Record<string, Record<string, CachedManifest>>;

export const manifestId = (text: string) => createHash("sha256").update(text).digest("hex");

async function fetchManifest(folder: Folder, manifestName: string, snapshot: string): Promise<CachedManifest | undefined> {
  const text = await folder.read(manifestName, MANIFEST_LIMIT);
  const manifest = parseManifest(text, snapshot);
  return manifest ? { id: manifestId(text), manifest } : undefined;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const modTimeOf = (iso: string | undefined) => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return new Date(Number.isNaN(t) ? 0 : t);
};

export async function listArchive(folder: Folder, cacheFile: string): Promise<ArchiveListing> {
  const files = await folder.objects();
  const names = new Set(files.keys());
  const size = (n: string) => files.get(n)?.size;
  // Keyed apart from the bare manifests earlier versions cache under the folder's path, so either version can read
  // the file the other wrote.
  const repoKey = `v2 ${folder.remote.path("")}`;
  const cacheAll = await readJson<Cache>(cacheFile, {});
  const cached = Object.fromEntries(Object.entries(cacheAll[repoKey] ?? {}).filter(([, c]) => typeof c?.id === "string" && c.manifest));

  const manifestFor = new Map<string, string>(); // snapshot → manifest object name
  for (const name of names) {
    const snap = snapshotOfManifest(name);
    if (snap) manifestFor.set(snap, name);
  }
  const manifests = new Map<string, CachedManifest | undefined>();
  const toFetch: [string, string][] = [];
  for (const [snap, mName] of manifestFor) {
    if (cached[snap]) manifests.set(snap, cached[snap]);
    else toFetch.push([snap, mName]);
  }
  const fetched = await mapLimit(toFetch, CONCURRENCY, ([snap, mName]) => fetchManifest(folder, mName, snap));
  toFetch.forEach(([snap], i) => manifests.set(snap, fetched[i]));

  const listing: ArchiveListing = { snapshots: [], damaged: [], leftovers: [], names };
  for (const name of names) {
    const modTime = modTimeOf(files.get(name)?.modTime);
    if (parseOurName(name)) {
      const m = manifests.get(name);
      if (!m) {
        listing.leftovers.push({ object: name, snapshot: name, modTime, reason: manifestFor.has(name) ? "invalid manifest" : "no manifest" });
      } else if (size(name) !== m.manifest.stored.size) {
        listing.damaged.push({ name, id: m.id, manifest: m.manifest, problem: `the stored object is ${size(name)} bytes, the manifest says ${m.manifest.stored.size}` });
      } else {
        listing.snapshots.push({ name, id: m.id, manifest: m.manifest, created: new Date(m.manifest.created), sequence: m.manifest.sequence ?? 0, size: m.manifest.stored.size });
      }
      continue;
    }
    const snapOfManifest = snapshotOfManifest(name);
    if (snapOfManifest) {
      const m = manifests.get(snapOfManifest);
      if (!m) listing.leftovers.push({ object: name, snapshot: snapOfManifest, modTime, reason: "invalid manifest" });
      else if (!names.has(snapOfManifest)) listing.damaged.push({ name: snapOfManifest, id: m.id, manifest: m.manifest, problem: "the data object is missing" });
      continue;
    }
    if (name.endsWith(PARTIAL)) {
      const base = parseOurName(name.slice(0, -PARTIAL.length));
      if (base) listing.leftovers.push({ object: name, snapshot: base.name, modTime, reason: "partial upload" });
    }
  }
  // Newest = last committed (sequence), then by creation time: see Manifest.sequence.
  listing.snapshots.sort((a, b) => b.sequence - a.sequence || b.created.getTime() - a.created.getTime() || (a.name < b.name ? 1 : -1));

  // Keep the cache to what still exists.
  const nextCache: Record<string, CachedManifest> = {};
  for (const [snap, m] of manifests) if (m) nextCache[snap] = m;
  if (JSON.stringify(nextCache) !== JSON.stringify(cacheAll[repoKey] ?? {})) {
    cacheAll[repoKey] = nextCache;
    await writeJson(cacheFile, cacheAll).catch(() => {}); // a cache, never a reason to fail
  }
  return listing;
}

/** The sequence the next snapshot committed to this folder gets. */
export function nextSequence(listing: ArchiveListing): number {
  return 1 + Math.max(0, ...listing.snapshots.map((s) => s.sequence), ...listing.damaged.map((d) => d.manifest.sequence ?? 0));
}
