// rclone filter flags for a sync pair: the user's excludes plus the folders each mode keeps out of a push.

/** Product folder inside the local sync root: drain staging and the local trash live here. */
export const LOCAL_PRODUCT_DIR = ".workspace-sync";
/** Trash folder inside the remote sync folder (files a push deleted or overwrote). */
export const REMOTE_TRASH_DIR = ".workspace-sync-trash";
export const INBOX = "_inbox";
export const OUTBOX = "_outbox";

/**
 * Secret-looking files kept out of every transfer unless `excludeSecrets: false` (rclone globs, any depth): SSH and
 * GnuPG folders, private keys (`id_*` but not `id_*.pub`: rclone's "[^x]" classes say "not ending in .pub"), key
 * and certificate stores, and the credential files of common tools.
 */
export const SECRET_PATTERNS: readonly string[] = [
  ".ssh/**",
  ".gnupg/**",
  "id_*[^b]",
  "id_*[^u]b",
  "id_*[^p]ub",
  "id_*[^.]pub",
  "*.pem",
  "*.key",
  "*.p12",
  "*.pfx",
  "*.ppk",
  "*.jks",
  "*.keystore",
  ".netrc",
  "_netrc",
  ".pgpass",
  ".git-credentials",
  ".npmrc",
  ".pypirc",
  ".aws/credentials",
  ".docker/config.json",
  ".kube/config",
  ".config/gcloud/**",
  ".azure/**",
];

/** The user's excludes plus, unless switched off, the secret-looking files. */
export function userExcludes(config: { exclude: readonly string[]; excludeSecrets: boolean }): string[] {
  return config.excludeSecrets ? [...config.exclude, ...SECRET_PATTERNS] : [...config.exclude];
}

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
