// `list`: entries of the remote folder as rclone lsjson reports them, for people and for scripts.
import { formatBytes } from "./format.js";

export interface RemoteEntry {
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
}

export interface RemoteEntryJson {
  path: string;
  size: number | null;
  modTime: string;
  isDir: boolean;
}

export function remoteEntriesJson(entries: readonly RemoteEntry[]): RemoteEntryJson[] {
  return entries.map((e) => ({ path: e.Path, size: e.IsDir ? null : e.Size, modTime: e.ModTime, isDir: e.IsDir }));
}

/** One line per entry (kind, size, time, path); `where` names the folder when it is empty. */
export function formatRemoteEntries(entries: readonly RemoteEntry[], where: string): string[] {
  if (entries.length === 0) return [`(empty: ${where})`];
  return entries.map(
    (e) => `${e.IsDir ? "dir " : "    "} ${(e.IsDir ? "" : formatBytes(e.Size)).padStart(10)}  ${e.ModTime.slice(0, 19)}  ${e.Path}${e.IsDir ? "/" : ""}`,
  );
}
