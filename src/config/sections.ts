// The shapes a config object has between validation and assembly, and the helpers every builder shares.
import { joinKey } from "./resolve-vars.js";
import type {
  BackupFormat,
  BackupItem,
  Compression,
  ConflictResolve,
  CryptBlock,
  CustomBlock,
  DropboxBlock,
  GdriveBlock,
  LocalBlock,
  OnedriveBlock,
  ProviderName,
  RetainPolicy,
  S3Block,
  SyncMode,
} from "./types.js";
import type { WalkContext } from "./walk.js";

/** rclone section name of the sync remote when remoteName is not given. */
export const DEFAULT_REMOTE_NAME = "cloud";

export interface Blocks {
  dropbox?: DropboxBlock;
  gdrive?: GdriveBlock;
  onedrive?: OnedriveBlock;
  s3?: S3Block;
  custom?: Partial<CustomBlock>;
  local?: Partial<LocalBlock>;
}
export interface RawSync extends Blocks {
  provider?: ProviderName;
  mode?: SyncMode;
  remotePath?: string;
  localPath?: string;
  interval?: number;
  timeout?: number;
  onSessionStart?: boolean;
  onSessionEnd?: boolean;
  remoteName?: string;
  configPath?: string;
  conflictResolve?: ConflictResolve;
  exclude?: string[];
  excludeSecrets?: boolean;
  copySymlinks?: boolean;
  ingest?: boolean;
  ingestPath?: string;
  notifyOnInbox?: boolean;
  maxDelete?: number;
  trashDays?: number;
  fullSyncInterval?: number;
  crypt?: Partial<CryptBlock>;
  rclonePath?: string;
}
export interface RawBackup extends Blocks {
  enabled?: boolean;
  provider?: ProviderName;
  remoteName?: string;
  configPath?: string;
  bucket?: string;
  prefix?: string;
  interval?: number;
  timeout?: number;
  encrypt?: boolean;
  passphrase?: string;
  recipients?: string[];
  identityFile?: string;
  include?: BackupItem[];
  retain?: number | RetainPolicy;
  exclude?: string[];
  compression?: Compression;
  allowPlaintextSecrets?: boolean;
  format?: BackupFormat;
}

/** One config object as written (raw) and the part of it that passed validation (valid). */
export interface Section<T> {
  prefix: string;
  raw: Record<string, unknown>;
  valid: T;
}

export const has = (s: Section<unknown>, k: string) => Object.hasOwn(s.raw, k) && s.raw[k] !== undefined;
export const keyOf = (s: Section<unknown>, k: string) => joinKey(s.prefix, k);

/** True when a problem was already reported at `key` or below it. */
export function failed(ctx: WalkContext, key: string): boolean {
  return ctx.problems.some((p) => p.key === key || p.key.startsWith(`${key}.`) || p.key.startsWith(`${key}[`));
}
