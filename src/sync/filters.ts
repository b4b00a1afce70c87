// rclone filter flags for a sync pair: the user's excludes plus the folders each mode keeps out of a push.

/** Product folder inside the local sync root: drain staging and the local trash live here. */
export const LOCAL_PRODUCT_DIR = ".workspace-sync";
/** Trash folder inside the remote sync folder (files a push deleted or overwrote). */
export const REMOTE_TRASH_DIR = ".workspace-sync-trash";
export const INBOX = "_inbox";
export const OUTBOX = "_outbox";

export function anchored(folder: string): string {
  return `/${folder.replace(/^\/+|\/+$/g, "")}/**`;
}

/** Folders that never travel in a push/pull of this mode (relative to the sync root). */
export function modeExcludedFolders(mode: string, ingest: boolean, ingestPath: string): string[] {
  const always = [LOCAL_PRODUCT_DIR, REMOTE_TRASH_DIR];
  if (mode === "mailbox") return [...always, INBOX, OUTBOX];
  if (mode === "mirror" && ingest) return [...always, ingestPath];
  return always;
}

/** Every exclude pattern of a transfer, in rclone glob syntax. */
export function excludePatterns(userExcludes: readonly string[], folders: readonly string[], extraPatterns: readonly string[] = []): string[] {
  return [...folders.map(anchored), ...extraPatterns, ...userExcludes];
}

export function toFilterArgs(patterns: readonly string[]): string[] {
  return patterns.flatMap((p) => ["--exclude", p]);
}

export function filterArgs(userExcludes: readonly string[], folders: readonly string[], extraPatterns: readonly string[] = []): string[] {
  return toFilterArgs(excludePatterns(userExcludes, folders, extraPatterns));
}
