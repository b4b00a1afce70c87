// The resolved, validated configuration every engine works with.
// Raw user input (nested or flat, with ${VAR} placeholders) is turned into these shapes by config/load.ts.

export const PROVIDERS = ["dropbox", "gdrive", "onedrive", "s3", "custom", "local", "off"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const SYNC_MODES = ["mailbox", "mirror", "bisync"] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export const CONFLICT_RESOLVE = ["newer", "local", "remote"] as const;
export type ConflictResolve = (typeof CONFLICT_RESOLVE)[number];

export const BACKUP_ITEMS = [
  "workspace",
  "config",
  "cron",
  "memory",
  "sessions",
  "credentials",
  "skills",
  "hooks",
  "extensions",
  "env",
  "agents",
  "pages",
  "transcripts",
] as const;
export type BackupItem = (typeof BACKUP_ITEMS)[number];

export const COMPRESSIONS = ["zstd", "gzip", "none"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** Backup storage formats that can be written (src/backup/formats/): one-file archives, or a restic repository. */
export const BACKUP_FORMATS = ["archive", "repository"] as const;
export type BackupFormat = (typeof BACKUP_FORMATS)[number];

export interface DropboxBlock {
  appFolder?: boolean;
  appKey?: string;
  appSecret?: string;
  token?: string;
}
export interface GdriveBlock {
  token?: string;
  teamDrive?: string;
  rootFolderId?: string;
  clientId?: string;
  clientSecret?: string;
}
export interface OnedriveBlock {
  token?: string;
  driveId?: string;
  driveType?: "personal" | "business" | "sharepoint";
  clientId?: string;
  clientSecret?: string;
}
export interface S3Block {
  provider?: string; // rclone's s3 "provider" (AWS, Cloudflare, Minio, Other, ...)
  endpoint?: string;
  bucket?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}
export interface CustomBlock {
  rcloneType: string;
  rcloneOptions: Record<string, string | number | boolean>;
}
export interface LocalBlock {
  path: string;
}
export interface CryptBlock {
  password: string;
  password2?: string;
}

/** Where a remote lives and how to reach it: one rclone config section (plus an optional crypt wrapper). */
export interface RemoteSpec {
  provider: Exclude<ProviderName, "off">;
  /** rclone section name the product owns (or the user's section when configPath is used read-only). */
  remoteName: string;
  /** User's own rclone.conf. Used read-only when no provider block is given. */
  configPath?: string;
  dropbox?: DropboxBlock;
  gdrive?: GdriveBlock;
  onedrive?: OnedriveBlock;
  s3?: S3Block;
  custom?: CustomBlock;
  local?: LocalBlock;
  crypt?: CryptBlock;
}

export interface SyncConfig {
  remote: RemoteSpec;
  mode: SyncMode;
  remotePath: string;
  localPath: string;
  interval: number;
  timeout: number;
  onSessionStart: boolean;
  onSessionEnd: boolean;
  conflictResolve: ConflictResolve;
  exclude: string[];
  /** Keep secret-looking files (SSH and TLS private keys, .netrc, cloud credentials) out of every transfer. */
  excludeSecrets: boolean;
  copySymlinks: boolean;
  ingest: boolean;
  ingestPath: string;
  notifyOnInbox: boolean;
  /** Percentage (0-100) of the destination's files one run may delete. */
  maxDelete: number;
  /** Days deleted/overwritten files stay in the trash area; 0 disables the safety net. */
  trashDays: number;
  /** Seconds between full rclone syncs that heal drift; change-driven pushes in between. 0 = always full. */
  fullSyncInterval: number;
}

export interface RetainPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

export interface BackupConfig {
  enabled: boolean;
  remote: RemoteSpec;
  bucket?: string;
  prefix: string;
  interval: number;
  timeout: number;
  encrypt: boolean;
  passphrase?: string;
  recipients: string[];
  identityFile?: string;
  include: BackupItem[];
  retain: number | RetainPolicy;
  exclude: string[];
  compression: Compression;
  allowPlaintextSecrets: boolean;
  /** Storage format new snapshots are written in; snapshots of every format in the folder stay usable. */
  format: BackupFormat;
}

export interface PluginConfig {
  sync?: SyncConfig;
  backup?: BackupConfig;
  /** Explicit rclone binary; otherwise found on PATH. */
  rclonePath?: string;
}

export interface ConfigProblem {
  /** Dotted key path, e.g. "sync.interval" or "backup.passphrase". */
  key: string;
  message: string;
}

export const DEFAULT_EXCLUDES = ["**/.DS_Store", ".git/**", "node_modules/**", "**/__pycache__/**", ".env*"];
