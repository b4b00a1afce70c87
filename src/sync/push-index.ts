// The push index: what the workspace looked like (size + mtime per file) when the remote was last known to
// equal it. Kept in the pair's state dir; deleted whenever a push fails, so the next run does a full sync.
import { rm } from "node:fs/promises";
import path from "node:path";
import { readJson, writeJson } from "../state/state-store.js";
import type { FileStamp } from "./local-scan.js";

export interface PushIndex {
  version: 1;
  /** Hash of everything that changes what a push covers (filters, remote, mode). */
  configHash: string;
  /** When a full rclone sync last verified the remote (drift healing schedule). */
  fullSyncAt: string;
  files: Record<string, FileStamp>;
}

export function indexFile(pairDir: string): string {
  return path.join(pairDir, "push-index.json");
}

/**
 * A few bytes beside the index: the digest of the find listing the index was built from, and the index's config
 * hash and full-sync time. An idle CLI cycle compares one digest and never reads (or parses) the whole index.
 * It exists only while it describes the index on disk: removed before the index changes, written after.
 */
export interface IndexSummary {
  version: 1;
  configHash: string;
  fullSyncAt: string;
  listingDigest: string;
  files: number;
}

const summaryFile = (pairDir: string) => path.join(pairDir, "push-index.summary.json");

export async function loadSummary(pairDir: string): Promise<IndexSummary | undefined> {
  const s = await readJson<IndexSummary | undefined>(summaryFile(pairDir), undefined);
  return s?.version === 1 && typeof s.listingDigest === "string" ? s : undefined;
}

export async function dropSummary(pairDir: string): Promise<void> {
  await rm(summaryFile(pairDir), { force: true });
}

export async function loadIndex(pairDir: string): Promise<PushIndex | undefined> {
  const idx = await readJson<PushIndex | undefined>(indexFile(pairDir), undefined);
  return idx?.version === 1 ? idx : undefined;
}

/** Records that `index`, already on disk, also describes the listing with this digest. */
export async function recordListing(pairDir: string, index: PushIndex, listingDigest: string): Promise<void> {
  const summary: IndexSummary = { version: 1, configHash: index.configHash, fullSyncAt: index.fullSyncAt, listingDigest, files: Object.keys(index.files).length };
  await writeJson(summaryFile(pairDir), summary);
}

/** Writes the index; with the digest of the listing it was built from, also its summary (see IndexSummary). */
export async function saveIndex(pairDir: string, index: PushIndex, listingDigest?: string): Promise<void> {
  await dropSummary(pairDir);
  await writeJson(indexFile(pairDir), index);
  if (listingDigest) await recordListing(pairDir, index, listingDigest);
}

export async function dropIndex(pairDir: string): Promise<void> {
  await dropSummary(pairDir);
  await rm(indexFile(pairDir), { force: true });
}

export interface TreeDiff {
  changed: string[];
  deleted: string[];
}

export function diffTree(index: Record<string, FileStamp>, now: Map<string, FileStamp>): TreeDiff {
  const changed: string[] = [];
  for (const [p, [size, mtime]] of now) {
    const old = index[p];
    if (!old || old[0] !== size || old[1] !== mtime) changed.push(p);
  }
  const deleted = Object.keys(index).filter((p) => !now.has(p));
  return { changed: changed.sort(), deleted: deleted.sort() };
}
