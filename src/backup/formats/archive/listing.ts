// The snapshot repository: one folder on the backup remote. Only objects named like ours with a valid manifest
// written by this product are snapshots; the older plugin's exact names are legacy snapshots; our data objects
// without a valid manifest are leftovers of interrupted runs; everything else (backup-family-photos.zip) is foreign
// and never touched. Manifests are immutable, so each is fetched once and cached under the state dir.
import type { RcloneBinary } from "../../../rclone/binary.js";
import type { ResolvedRemote } from "../../../rclone/remotes.js";
import { RcloneError, runRclone } from "../../../rclone/runner.js";
import { readJson, writeJson } from "../../../state/state-store.js";
import { listFiles } from "../../../rclone/listing.js";
import { type Manifest, parseManifest } from "./manifest.js";
import { manifestNameFor, parseLegacyName, parseOurName, snapshotOfManifest } from "./naming.js";

export interface RepoAccess {
  bin: RcloneBinary;
  remote: ResolvedRemote;
  env: NodeJS.ProcessEnv;
  /** JSON file caching parsed manifests (per repository). */
  cacheFile: string;
  signal?: AbortSignal;
}

export interface SnapshotEntry {
  name: string;
  manifest: Manifest;
  created: Date;
  /** Commit order (manifest.sequence, 0 for older manifests). */
  sequence: number;
  /** Size of the data object as listed. */
  size: number;
}

export interface DamagedEntry {
  name: string;
  manifest: Manifest;
  problem: string;
}

export interface LegacyEntry {
  name: string;
  time: Date;
  size: number;
  encrypted: boolean;
}

export interface Leftover {
  /** Object to delete (a data object, a partial upload or an invalid manifest). */
  object: string;
  /** The snapshot name it belongs to. */
  snapshot: string;
  /** Start time of the run that wrote it (from the name). */
  time: Date;
  reason: string;
}

export interface RepoListing {
  /** Complete snapshots, newest first. */
  snapshots: SnapshotEntry[];
  damaged: DamagedEntry[];
  /** Older plugin's snapshots, newest first. */
  legacy: LegacyEntry[];
  leftovers: Leftover[];
  /** Every object name in the folder (for unique names). */
  names: Set<string>;
}

const PARTIAL = ".partial";
const MANIFEST_LIMIT = 1 << 20;
const CONCURRENCY = 4;

type Cache = Record<string, Record<string, Manifest>>;

async function fetchManifest(a: RepoAccess, manifestName: string, snapshot: string): Promise<Manifest | undefined> {
  const res = await runRclone(a.bin, {
    args: ["cat", a.remote.path(manifestName)],
    configPath: a.remote.configPath,
    env: a.env,
    signal: a.signal,
    stdout: { capture: MANIFEST_LIMIT },
    timeoutMs: 120_000,
  });
  if (res.code !== 0) throw new RcloneError("cat", res);
  return parseManifest(res.stdout, snapshot);
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

const newestFirst = <T extends { name: string }>(time: (t: T) => number) => (a: T, b: T) => time(b) - time(a) || (a.name < b.name ? 1 : -1);

export async function listRepository(a: RepoAccess): Promise<RepoListing> {
  const files = await listFiles(a.bin, a.remote.path(""), { configPath: a.remote.configPath, env: a.env, signal: a.signal, recursive: false, timeoutMs: 300_000 });
  const sizes = new Map([...files.values()].map((f) => [f.path, f.size]));
  const names = new Set(sizes.keys());
  const repoKey = a.remote.path("");
  const cacheAll = await readJson<Cache>(a.cacheFile, {});
  const cached = cacheAll[repoKey] ?? {};

  const manifestFor = new Map<string, string>(); // snapshot → manifest object name
  for (const name of names) {
    const snap = snapshotOfManifest(name);
    if (snap) manifestFor.set(snap, name);
  }
  const manifests = new Map<string, Manifest | undefined>();
  const toFetch: [string, string][] = [];
  for (const [snap, mName] of manifestFor) {
    if (cached[snap]) manifests.set(snap, cached[snap]);
    else toFetch.push([snap, mName]);
  }
  const fetched = await mapLimit(toFetch, CONCURRENCY, ([snap, mName]) => fetchManifest(a, mName, snap));
  toFetch.forEach(([snap], i) => manifests.set(snap, fetched[i]));

  const listing: RepoListing = { snapshots: [], damaged: [], legacy: [], leftovers: [], names };
  for (const name of names) {
    const ours = parseOurName(name);
    if (ours) {
      const manifest = manifests.get(name);
      if (!manifest) {
        listing.leftovers.push({ object: name, snapshot: name, time: ours.time, reason: manifestFor.has(name) ? "invalid manifest" : "no manifest" });
      } else if (sizes.get(name) !== manifest.stored.size) {
        listing.damaged.push({ name, manifest, problem: `the stored object is ${sizes.get(name)} bytes, the manifest says ${manifest.stored.size}` });
      } else {
        listing.snapshots.push({ name, manifest, created: new Date(manifest.created), sequence: manifest.sequence ?? 0, size: manifest.stored.size });
      }
      continue;
    }
    const snapOfManifest = snapshotOfManifest(name);
    if (snapOfManifest) {
      const manifest = manifests.get(snapOfManifest);
      const time = parseOurName(snapOfManifest)!.time;
      if (!manifest) listing.leftovers.push({ object: name, snapshot: snapOfManifest, time, reason: "invalid manifest" });
      else if (!names.has(snapOfManifest)) listing.damaged.push({ name: snapOfManifest, manifest, problem: "the data object is missing" });
      continue;
    }
    if (name.endsWith(PARTIAL)) {
      const base = parseOurName(name.slice(0, -PARTIAL.length));
      if (base) listing.leftovers.push({ object: name, snapshot: base.name, time: base.time, reason: "partial upload" });
      continue;
    }
    const legacy = parseLegacyName(name);
    if (legacy) listing.legacy.push({ name, time: legacy.time, size: sizes.get(name) ?? 0, encrypted: legacy.encrypted });
  }
  // Newest = last committed (sequence), then by creation time: see Manifest.sequence.
  listing.snapshots.sort((a, b) => b.sequence - a.sequence || newestFirst<SnapshotEntry>((s) => s.created.getTime())(a, b));
  listing.legacy.sort(newestFirst((l) => l.time.getTime()));

  // Keep the cache to what still exists.
  const nextCache: Record<string, Manifest> = {};
  for (const [snap, m] of manifests) if (m) nextCache[snap] = m;
  if (JSON.stringify(nextCache) !== JSON.stringify(cached)) {
    cacheAll[repoKey] = nextCache;
    await writeJson(a.cacheFile, cacheAll).catch(() => {}); // a cache, never a reason to fail
  }
  return listing;
}

/** Deletes one object; an object that is already gone counts as deleted. */
export async function deleteObject(a: RepoAccess, name: string): Promise<void> {
  const res = await runRclone(a.bin, { args: ["deletefile", a.remote.path(name)], configPath: a.remote.configPath, env: a.env, signal: a.signal, timeoutMs: 300_000 });
  if (res.code === 0) return;
  if (res.code === 3 || res.code === 4 || res.errors.some((e) => /not found|doesn't exist|NoSuchKey|object not found/i.test(e))) return;
  throw new RcloneError("deletefile", res);
}

/** Removes a snapshot: the manifest first (from then on it no longer exists), then its data object. */
export async function deleteSnapshot(a: RepoAccess, name: string): Promise<void> {
  await deleteObject(a, manifestNameFor(name));
  await deleteObject(a, name);
}

export function findSnapshot(listing: RepoListing, wanted: string | undefined): SnapshotEntry | LegacyEntry | undefined {
  if (!wanted || wanted === "latest") return listing.snapshots[0] ?? listing.legacy[0];
  const strip = wanted.endsWith(".manifest.json") ? wanted.slice(0, -".manifest.json".length) : wanted;
  return listing.snapshots.find((s) => s.name === strip) ?? listing.legacy.find((l) => l.name === strip);
}

/** The sequence the next snapshot committed to this repository gets. */
export function nextSequence(listing: RepoListing): number {
  return 1 + Math.max(0, ...listing.snapshots.map((s) => s.sequence), ...listing.damaged.map((d) => d.manifest.sequence ?? 0));
}

export const isLegacy = (e: SnapshotEntry | LegacyEntry): e is LegacyEntry => !("manifest" in e);

/** Size of one object as the remote reports it (undefined when it does not exist). */
export async function statObject(a: RepoAccess, name: string): Promise<number | undefined> {
  const res = await runRclone(a.bin, {
    args: ["lsjson", "--stat", "--no-mimetype", a.remote.path(name)],
    configPath: a.remote.configPath,
    env: a.env,
    signal: a.signal,
    stdout: { capture: 1 << 20 },
    timeoutMs: 120_000,
  });
  if (res.code !== 0) {
    if (res.code === 3 || res.code === 4 || res.errors.some((e) => /not found|doesn't exist|NoSuchKey/i.test(e))) return undefined;
    throw new RcloneError("lsjson", res);
  }
  const parsed = JSON.parse(res.stdout) as { Size?: number };
  return typeof parsed.Size === "number" ? parsed.Size : undefined;
}
