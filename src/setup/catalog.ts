// What the wizard offers: providers, sync modes with their one-line consequence, S3 endpoint presets, and which
// providers sign in through OAuth (`rclone authorize`).
import type { ProviderName, SyncMode } from "../config/types.js";

export type RemoteProvider = Exclude<ProviderName, "off">;

export const PROVIDER_CHOICES: { value: ProviderName; label: string; hint: string }[] = [
  { value: "local", label: "Local folder", hint: "a NAS mount, USB disk or other disk; no account needed" },
  { value: "dropbox", label: "Dropbox", hint: "OAuth sign-in; optionally your own app limited to its app folder" },
  { value: "gdrive", label: "Google Drive", hint: "OAuth sign-in; My Drive or a shared drive" },
  { value: "onedrive", label: "OneDrive", hint: "OAuth sign-in; personal, business or SharePoint" },
  { value: "s3", label: "S3-compatible storage", hint: "AWS S3, Cloudflare R2, Backblaze B2, MinIO, …" },
  { value: "custom", label: "Other rclone backend", hint: "sftp, webdav, b2, pcloud, … with your own options" },
  { value: "off", label: "No sync", hint: "backups only" },
];

export const MODE_CHOICES: { value: SyncMode; label: string; hint: string }[] = [
  { value: "mailbox", label: "mailbox (safest)", hint: "workspace → cloud copy; files put in the cloud _outbox/ arrive in _inbox/" },
  { value: "mirror", label: "mirror", hint: "workspace → cloud only; nothing in the cloud ever changes the workspace" },
  { value: "bisync", label: "bisync", hint: "two-way: edits and deletions cross both ways; first run needs --resync" },
];

/** OAuth providers → rclone backend type (also the prefix of its RCLONE_<TYPE>_* environment options). */
export const OAUTH_PROVIDERS = { dropbox: "dropbox", gdrive: "drive", onedrive: "onedrive" } as const;
export type OAuthProvider = keyof typeof OAUTH_PROVIDERS;
export const isOAuthProvider = (p: string | undefined): p is OAuthProvider => p !== undefined && Object.hasOwn(OAUTH_PROVIDERS, p);

export const PROVIDER_LABEL: Record<RemoteProvider, string> = {
  local: "Local folder",
  dropbox: "Dropbox",
  gdrive: "Google Drive",
  onedrive: "OneDrive",
  s3: "S3",
  custom: "rclone backend",
};

export type S3Preset = "aws" | "r2" | "b2" | "minio" | "other";

export interface S3PresetInfo {
  label: string;
  hint: string;
  /** rclone's s3 `provider` value (checked against `rclone config providers` in the tests). */
  rcloneProvider: string;
  /** Region to use without asking; undefined = ask. */
  fixedRegion?: string;
  defaultRegion?: string;
  /** Endpoint from the answers; undefined = ask for the URL (or none for AWS). */
  endpoint?: (a: { region?: string; accountId?: string }) => string | undefined;
  askEndpoint: boolean;
  askAccountId?: boolean;
  /** Access keys may be left empty (credentials from the environment / instance role). */
  keysOptional?: boolean;
}

export const S3_PRESETS: Record<S3Preset, S3PresetInfo> = {
  aws: {
    label: "Amazon S3",
    hint: "region like us-east-1",
    rcloneProvider: "AWS",
    defaultRegion: "us-east-1",
    askEndpoint: false,
    keysOptional: true,
  },
  r2: {
    label: "Cloudflare R2",
    hint: "endpoint from your account id",
    rcloneProvider: "Cloudflare",
    fixedRegion: "auto",
    endpoint: ({ accountId }) => (accountId ? `https://${accountId}.r2.cloudflarestorage.com` : undefined),
    askEndpoint: false,
    askAccountId: true,
  },
  b2: {
    label: "Backblaze B2 (S3 API)",
    hint: "endpoint from the bucket's region, like us-west-004",
    rcloneProvider: "Other",
    endpoint: ({ region }) => (region ? `https://s3.${region}.backblazeb2.com` : undefined),
    askEndpoint: false,
  },
  minio: {
    label: "MinIO",
    hint: "your server's URL",
    rcloneProvider: "Minio",
    defaultRegion: "us-east-1",
    askEndpoint: true,
  },
  other: {
    label: "Other S3-compatible",
    hint: "Wasabi, DigitalOcean Spaces, Scaleway, a local server, …",
    rcloneProvider: "Other",
    defaultRegion: "us-east-1",
    askEndpoint: true,
  },
};

export const S3_PRESET_NAMES = Object.keys(S3_PRESETS) as S3Preset[];

export const DEFAULT_REMOTE_PATH = "openclaw-share";
export const DEFAULT_BACKUP_PREFIX = "openclaw-backups";
/** Wizard defaults (the config's own defaults are 0 and 86400: a user running setup wants background sync). */
export const DEFAULT_SYNC_INTERVAL = 300;
export const DEFAULT_BACKUP_INTERVAL = 86_400;
export const DEFAULT_RETAIN = 7;
