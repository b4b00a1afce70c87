// Labels and help texts the host shows next to each config key (openclaw.plugin.json `uiHints`). Which keys are
// secrets is not decided here: the generator marks every key the config schema treats as secret sensitive
// (config/schema.ts isSecretPath) on top of the ones flagged below (identifiers that are still better hidden).
export interface UiHint {
  label: string;
  help: string;
  sensitive?: boolean;
  advanced?: boolean;
  placeholder?: string;
}

type Hints = Record<string, UiHint>;

function remoteHints(prefix: string, what: "synced copy" | "backups"): Hints {
  const h: Hints = {
    [`${prefix}provider`]: { label: "Provider", help: `Where the ${what} lives: dropbox, gdrive, onedrive, s3, custom (any rclone backend), local (a folder/NAS/USB path) or off.` },
    [`${prefix}remoteName`]: { label: "rclone remote name", help: "Section name in the product's rclone.conf (default: cloud).", advanced: true },
    [`${prefix}configPath`]: { label: "rclone.conf path", help: "Use your own rclone.conf (read-only when no provider block is given).", advanced: true },
    [`${prefix}dropbox.appFolder`]: { label: "Dropbox app folder", help: 'Scoped app-folder access; then remotePath is usually "".' },
    [`${prefix}dropbox.appKey`]: { label: "Dropbox app key", help: "App key of your own Dropbox app.", sensitive: true },
    [`${prefix}dropbox.appSecret`]: { label: "Dropbox app secret", help: "App secret of your own Dropbox app. Use ${VAR}." },
    [`${prefix}dropbox.token`]: { label: "Dropbox token", help: "OAuth token JSON from `workspace-sync authorize`. Use ${VAR}." },
    [`${prefix}gdrive.token`]: { label: "Google Drive token", help: "OAuth token JSON from `workspace-sync authorize --provider gdrive`." },
    [`${prefix}gdrive.teamDrive`]: { label: "Shared drive id", help: "Optional shared (team) drive id." },
    [`${prefix}gdrive.rootFolderId`]: { label: "Root folder id", help: "Optional root folder id.", advanced: true },
    [`${prefix}gdrive.clientId`]: { label: "Google client id", help: "Optional own OAuth client id.", advanced: true },
    [`${prefix}gdrive.clientSecret`]: { label: "Google client secret", help: "Optional own OAuth client secret.", advanced: true },
    [`${prefix}onedrive.token`]: { label: "OneDrive token", help: "OAuth token JSON from `workspace-sync authorize --provider onedrive`." },
    [`${prefix}onedrive.driveId`]: { label: "OneDrive drive id", help: "Optional drive id." },
    [`${prefix}onedrive.driveType`]: { label: "OneDrive drive type", help: "personal, business or sharepoint." },
    [`${prefix}onedrive.clientId`]: { label: "OneDrive client id", help: "Optional own OAuth client id.", advanced: true },
    [`${prefix}onedrive.clientSecret`]: { label: "OneDrive client secret", help: "Optional own OAuth client secret.", advanced: true },
    [`${prefix}s3.provider`]: { label: "S3 flavour", help: "rclone's s3 provider (AWS, Cloudflare, Minio, Other, ...)." },
    [`${prefix}s3.endpoint`]: { label: "S3 endpoint", help: "e.g. https://<account>.r2.cloudflarestorage.com" },
    [`${prefix}s3.bucket`]: { label: "S3 bucket", help: "Bucket name." },
    [`${prefix}s3.region`]: { label: "S3 region", help: "e.g. us-east-1 or auto." },
    [`${prefix}s3.accessKeyId`]: { label: "S3 access key id", help: "Use ${VAR}.", sensitive: true },
    [`${prefix}s3.secretAccessKey`]: { label: "S3 secret access key", help: "Use ${VAR}." },
    [`${prefix}custom.rcloneType`]: { label: "rclone backend type", help: "Any rclone backend (sftp, b2, webdav, ...)." },
    [`${prefix}custom.rcloneOptions`]: { label: "rclone backend options", help: "Passed to the rclone config section; may hold credentials.", sensitive: true },
    [`${prefix}local.path`]: { label: "Local folder", help: "Absolute path of a folder, NAS mount or USB disk used as the remote.", placeholder: "/mnt/nas/openclaw" },
  };
  if (what === "synced copy") {
    h[`${prefix}crypt.password`] = {
      label: "Encryption password",
      help: "Wraps the remote in rclone crypt (end-to-end encrypted; only rclone can read the cloud copy). Use ${VAR}.",
    };
    h[`${prefix}crypt.password2`] = { label: "Encryption salt password", help: "Optional second crypt password. Use ${VAR}." };
  }
  return h;
}

function syncHints(prefix: string): Hints {
  return {
    ...remoteHints(prefix, "synced copy"),
    [`${prefix}mode`]: { label: "Sync mode", help: "Required: mailbox (push + _outbox→_inbox, safest), mirror (one-way publish) or bisync (two-way; first run needs --resync)." },
    [`${prefix}remotePath`]: { label: "Remote folder", help: 'Folder on the remote (default openclaw-share; Dropbox app folder root: "").' },
    [`${prefix}localPath`]: { label: "Workspace subfolder", help: "Relative folder inside the workspace to sync (default: the whole workspace)." },
    [`${prefix}interval`]: { label: "Background interval (s)", help: "Seconds between background cycles, measured from the end of the previous one; 0 = off, otherwise >= 60." },
    [`${prefix}timeout`]: { label: "Timeout (s)", help: "Maximum seconds for one rclone operation (>= 60, default 1800).", advanced: true },
    [`${prefix}onSessionStart`]: { label: "Sync on session start", help: "Queue a cycle in the background when an agent session starts (never delays the session)." },
    [`${prefix}onSessionEnd`]: { label: "Sync on session end", help: "Queue a cycle when an agent session ends." },
    [`${prefix}conflictResolve`]: { label: "Conflict winner", help: "bisync only: newer, local or remote.", advanced: true },
    [`${prefix}exclude`]: { label: "Exclude patterns", help: "rclone glob patterns; default **/.DS_Store, .git/**, node_modules/**, **/__pycache__/**, .env*." },
    [`${prefix}copySymlinks`]: { label: "Follow symlinks", help: "Copy what symlinks point to instead of skipping them.", advanced: true },
    [`${prefix}ingest`]: { label: "Mirror drop folder", help: "mirror only: copy files dropped in <remotePath>/<ingestPath>/ into the workspace (additive)." },
    [`${prefix}ingestPath`]: { label: "Drop folder name", help: "Folder for ingest (default inbox)." },
    [`${prefix}notifyOnInbox`]: { label: "Notify agent of new files", help: "After a cycle that brought files, send one system event and wake the agent. Costs an agent turn." },
    [`${prefix}maxDelete`]: {
      label: "Deletion guard (%)",
      help: "A run that would delete more than this share of the destination's files stops before deleting (default 50).",
      advanced: true,
    },
    [`${prefix}fullSyncInterval`]: {
      label: "Full comparison interval (s)",
      help: "Seconds between full rclone comparisons; cycles in between push only what changed (default 86400; 0 = full every cycle).",
      advanced: true,
    },
    [`${prefix}trashDays`]: { label: "Trash retention (days)", help: "Deleted/overwritten files are kept in a trash area this long (default 7; 0 = off).", advanced: true },
  };
}

export const UI_HINTS: Hints = {
  sync: { label: "Sync", help: "Workspace sync with cloud storage (recommended nested format). The flat format — the same keys at the config root — keeps working." },
  backup: { label: "Backup", help: "Encrypted, streaming snapshots of the agent system to your own storage. Independent of sync." },
  rclonePath: { label: "rclone binary", help: "Path to rclone; default: found on PATH.", advanced: true },
  ...syncHints("sync."),
  ...syncHints(""),
  ...remoteHints("backup.", "backups"),
  "backup.enabled": { label: "Scheduled backups", help: "Run backups on the interval (manual `backup now` works either way)." },
  "backup.bucket": { label: "Bucket", help: "S3/R2 bucket (or top folder) for snapshots." },
  "backup.prefix": { label: "Prefix", help: "Path prefix for snapshots, e.g. habibi/." },
  "backup.interval": { label: "Backup interval (s)", help: "Seconds between scheduled backups (>= 300, default 86400)." },
  "backup.timeout": { label: "Backup timeout (s)", help: "Maximum seconds for one backup.", advanced: true },
  "backup.encrypt": { label: "Encrypt", help: "age encryption of every snapshot (required for secrets unless allowPlaintextSecrets)." },
  "backup.passphrase": { label: "Backup passphrase", help: "age passphrase. Use ${BACKUP_PASSPHRASE}; never stored in logs." },
  "backup.recipients": { label: "age recipients", help: "age1... public keys: the gateway can encrypt without holding the decryption secret." },
  "backup.identityFile": { label: "age identity file", help: "Private key file used by restore/verify when recipients are used.", advanced: true },
  "backup.include": {
    label: "Include",
    help: "workspace, config, cron, memory, sessions, credentials, skills, hooks, extensions, env, agents, pages, transcripts.",
  },
  "backup.retain": { label: "Retention", help: "Keep the newest N, or {last, hourly, daily, weekly, monthly, yearly}." },
  "backup.exclude": { label: "Exclude patterns", help: "Glob patterns left out of the workspace archive." },
  "backup.compression": { label: "Compression", help: "zstd (default when available), gzip or none.", advanced: true },
  "backup.allowPlaintextSecrets": {
    label: "Allow unencrypted secrets",
    help: "Allow backing up config/credentials/env/agents without encryption. Not recommended.",
    advanced: true,
  },
};
