// Snapshot groups: host + included paths, restic's default grouping. `latest`, retention and skip-unchanged work
// within this install's group, so installs (or agents with their own workspaces) that share one backup folder never
// prune or restore each other's snapshots.
import { createHash } from "node:crypto";
import { includedPaths } from "./items.js";
import type { BackupTarget } from "./job.js";

export interface Group {
  host: string;
  paths: string[];
  /** Stable key (16 hex digits of a SHA-256 of host and paths); the first 8 are shown. */
  key: string;
}

export function groupKey(host: string, paths: readonly string[]): string {
  return createHash("sha256")
    .update(JSON.stringify([host, [...paths].sort()]))
    .digest("hex")
    .slice(0, 16);
}

export function groupOf(host: string, paths: readonly string[]): Group {
  const sorted = [...paths].sort();
  return { host, paths: sorted, key: groupKey(host, sorted) };
}

/** The group this install's snapshots belong to. */
export function installGroup(target: BackupTarget): Group {
  return groupOf(target.host, includedPaths(target.config.include, target.locations));
}
