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

export async function loadIndex(pairDir: string): Promise<PushIndex | undefined> {
  const idx = await readJson<PushIndex | undefined>(indexFile(pairDir), undefined);
  return idx?.version === 1 ? idx : undefined;
}

export async function saveIndex(pairDir: string, index: PushIndex): Promise<void> {
  await writeJson(indexFile(pairDir), index);
}

export async function dropIndex(pairDir: string): Promise<void> {
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
