// Every setup answer as a flag (`setup --provider s3 --mode mailbox … --yes`). The question ids the wizard asks are
// these flag names, so the flags form and the interactive form run the very same flow and produce the same config.
// Secrets are never flags (any user on the machine can read a process's argv): they come from the environment
// variables listed in SECRET_VARS, or from the masked prompts.

export type FlagKind = "value" | "bool" | "list";

export interface FlagDef {
  id: string;
  kind: FlagKind;
  arg?: string;
  description: string;
  choices?: readonly string[];
}

const REMOTE_FLAGS: FlagDef[] = [
  { id: "local-folder", kind: "value", arg: "dir", description: "local: absolute folder to sync into (NAS mount, USB disk)" },
  { id: "dropbox-app-folder", kind: "bool", description: "dropbox: your own Dropbox app with App folder access (needs --dropbox-app-key)" },
  { id: "dropbox-app-key", kind: "value", arg: "key", description: "dropbox: app key of your own Dropbox app" },
  { id: "gdrive-team-drive", kind: "value", arg: "id", description: "gdrive: shared drive (Team Drive) id; empty = My Drive" },
  { id: "gdrive-root-folder", kind: "value", arg: "id", description: "gdrive: root folder id; empty = the drive's root" },
  { id: "gdrive-client-id", kind: "value", arg: "id", description: "gdrive: your own OAuth client id (empty = rclone's)" },
  { id: "onedrive-drive-type", kind: "value", arg: "type", description: "onedrive: drive type", choices: ["personal", "business", "sharepoint"] },
  { id: "onedrive-drive-id", kind: "value", arg: "id", description: "onedrive: drive id (empty = found after sign-in)" },
  { id: "onedrive-client-id", kind: "value", arg: "id", description: "onedrive: your own OAuth client id (empty = rclone's)" },
  { id: "s3-preset", kind: "value", arg: "preset", description: "s3: endpoint preset", choices: ["aws", "r2", "b2", "minio", "other"] },
  { id: "s3-region", kind: "value", arg: "region", description: "s3: region (aws, b2, minio, other)" },
  { id: "s3-account-id", kind: "value", arg: "id", description: "s3 (r2): Cloudflare account id (gives the endpoint)" },
  { id: "s3-endpoint", kind: "value", arg: "url", description: "s3: endpoint URL (minio, other; overrides a preset's)" },
  { id: "s3-bucket", kind: "value", arg: "bucket", description: "s3: bucket" },
  { id: "custom-type", kind: "value", arg: "type", description: "custom: rclone backend type (sftp, webdav, b2, …)" },
  { id: "custom-option", kind: "list", arg: "name=value", description: "custom: rclone option (repeatable); secret options as name=${VAR}" },
];

export const SETUP_FLAGS: FlagDef[] = [
  { id: "provider", kind: "value", arg: "name", description: "where the workspace syncs to", choices: ["local", "dropbox", "gdrive", "onedrive", "s3", "custom", "off"] },
  ...REMOTE_FLAGS,
  { id: "mode", kind: "value", arg: "mode", description: "sync mode (required)", choices: ["mailbox", "mirror", "bisync"] },
  { id: "remote-path", kind: "value", arg: "path", description: 'folder on the remote (default openclaw-share; "" for a Dropbox app folder)' },
  { id: "local-path", kind: "value", arg: "path", description: "workspace sub-folder to sync, relative (default: the whole workspace)" },
  { id: "interval", kind: "value", arg: "seconds", description: "background sync period: 0 (only when asked) or >= 60 (default 300)" },
  { id: "session-start", kind: "bool", description: "sync when an agent session starts" },
  { id: "session-end", kind: "bool", description: "sync when an agent session ends" },
  { id: "crypt", kind: "bool", description: "encrypt the synced copy end to end with rclone crypt (password from SYNC_CRYPT_PASSWORD)" },
  { id: "backup", kind: "bool", description: "set up scheduled, encrypted backups" },
  { id: "backup-provider", kind: "value", arg: "name", description: 'where backups go: "same" as sync (default) or a provider', choices: ["same", "local", "dropbox", "gdrive", "onedrive", "s3", "custom"] },
  ...REMOTE_FLAGS.map((f) => ({ ...f, id: `backup-${f.id}`, description: `backup ${f.description.replace(/--(?=[a-z])/g, "--backup-")}` })),
  { id: "backup-prefix", kind: "value", arg: "folder", description: "folder for the snapshots (default openclaw-backups)" },
  { id: "backup-encrypt", kind: "value", arg: "how", description: "passphrase (from BACKUP_PASSPHRASE), recipients or none", choices: ["passphrase", "recipients", "none"] },
  { id: "backup-recipient", kind: "list", arg: "age1…", description: "age public key to encrypt to (repeatable)" },
  { id: "backup-retain", kind: "value", arg: "n", description: 'snapshots to keep: a number (default 7) or "daily=7,weekly=4"' },
  { id: "backup-interval", kind: "value", arg: "seconds", description: "backup period, >= 300 (default 86400)" },
  { id: "generate-passphrase", kind: "bool", description: "with --backup-encrypt passphrase: generate a strong passphrase into <stateDir>/.env instead of reading BACKUP_PASSPHRASE" },
  { id: "authorize", kind: "value", arg: "how", description: "OAuth sign-in: browser (run rclone authorize here), paste (token on stdin) or skip", choices: ["browser", "paste", "skip"] },
  { id: "check", kind: "bool", description: "check that the remote answers before writing (default on)" },
  { id: "first-sync", kind: "bool", description: "run the first sync after the preview (default on)" },
  { id: "first-backup", kind: "bool", description: "take the first backup (default on)" },
];

/** Environment variables secret answers come from in the flags form (and where the wizard stores them in .env). */
export const SECRET_VARS: { name: string; what: string }[] = [
  { name: "SYNC_S3_ACCESS_KEY_ID / SYNC_S3_SECRET_ACCESS_KEY", what: "S3 keys (BACKUP_S3_… for a backup remote of its own)" },
  { name: "SYNC_DROPBOX_APP_SECRET", what: "your Dropbox app's secret" },
  { name: "SYNC_GDRIVE_CLIENT_SECRET / SYNC_ONEDRIVE_CLIENT_SECRET", what: "your own OAuth client's secret" },
  { name: "SYNC_CRYPT_PASSWORD (SYNC_CRYPT_PASSWORD2)", what: "rclone crypt password (and optional salt)" },
  { name: "BACKUP_PASSPHRASE", what: "backup encryption passphrase (12+ characters, hard to guess; or --generate-passphrase)" },
];

const camel = (id: string) => id.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export type Presets = Map<string, string | boolean | string[]>;

/** The answers given as flags, keyed by question id. */
export function presetsFrom(opts: Record<string, unknown>): Presets {
  const out: Presets = new Map();
  for (const f of SETUP_FLAGS) {
    const v = opts[camel(f.id)];
    if (v === undefined) continue;
    if (f.kind === "bool" && typeof v === "boolean") out.set(f.id, v);
    else if (f.kind === "list" && Array.isArray(v)) out.set(f.id, v.map(String));
    else if (f.kind === "value" && typeof v === "string") out.set(f.id, v);
  }
  return out;
}

export const FLAG_IDS: ReadonlySet<string> = new Set(SETUP_FLAGS.map((f) => f.id));
