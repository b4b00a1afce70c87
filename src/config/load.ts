// Raw plugin config (nested or flat, with ${VAR} placeholders) → validated PluginConfig plus EVERY problem found.
// Problem keys are the dotted paths as the user wrote them: "sync.interval" in the nested format, "interval" in
// the flat one. With problems the returned config may be partial; callers stop (exit 2) or stay idle.
import { expandHome, type Env } from "./home.js";
import { PLUGIN_CONFIG_KEY } from "./locate.js";
import { joinKey, resolveVars } from "./resolve-vars.js";
import { BACKUP_SPEC, type BlockName, FLAT_ROOT_SPEC, isSecretPath, kindOf, NESTED_ROOT_SPEC, SYNC_SPEC } from "./schema.js";
import {
  type BackupConfig,
  type BackupItem,
  type Compression,
  type ConfigProblem,
  type ConflictResolve,
  type CryptBlock,
  type CustomBlock,
  DEFAULT_EXCLUDES,
  type DropboxBlock,
  type GdriveBlock,
  type LocalBlock,
  type OnedriveBlock,
  type PluginConfig,
  type ProviderName,
  type RemoteSpec,
  type RetainPolicy,
  type S3Block,
  type SyncConfig,
  type SyncMode,
} from "./types.js";
import { isPlainObject, type WalkContext, walkObject } from "./walk.js";

export const DEFAULT_BACKUP_INCLUDE: BackupItem[] = ["workspace", "config", "cron", "memory"];
/** Backup items that hold credentials: never stored unencrypted unless the user says so. */
const SECRET_ITEMS: readonly BackupItem[] = ["config", "credentials", "env", "agents"];
const DEFAULT_REMOTE_NAME = "cloud";

interface Blocks {
  dropbox?: DropboxBlock;
  gdrive?: GdriveBlock;
  onedrive?: OnedriveBlock;
  s3?: S3Block;
  custom?: Partial<CustomBlock>;
  local?: Partial<LocalBlock>;
}
interface RawSync extends Blocks {
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
  copySymlinks?: boolean;
  ingest?: boolean;
  ingestPath?: string;
  notifyOnInbox?: boolean;
  maxDelete?: number;
  trashDays?: number;
  crypt?: Partial<CryptBlock>;
  rclonePath?: string;
}
interface RawBackup extends Blocks {
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
}

/** One config object as written (raw) and the part of it that passed validation (valid). */
interface Section<T> {
  prefix: string;
  raw: Record<string, unknown>;
  valid: T;
}

const has = (s: Section<unknown>, k: string) => Object.hasOwn(s.raw, k) && s.raw[k] !== undefined;
const keyOf = (s: Section<unknown>, k: string) => joinKey(s.prefix, k);

// Keys that only make sense when sync runs: giving them without a provider means sync was meant to be on.
const SYNC_INTENT = ["mode", "remotePath", "localPath", "interval", "onSessionStart", "onSessionEnd", "ingest", "notifyOnInbox", "crypt"];

const MODE_HELP =
  '"mailbox" (safest: the workspace pushes to the cloud, files come back through _outbox), "mirror" (one way: the cloud copy follows the workspace) or "bisync" (two-way; read the docs first)';

export interface LoadResult {
  config: PluginConfig;
  problems: ConfigProblem[];
}

export function loadPluginConfig(pluginRaw: unknown, env: Env): LoadResult {
  const problems: ConfigProblem[] = [];
  if (pluginRaw === undefined || pluginRaw === null) return { config: {}, problems };
  const vars = resolveVars(pluginRaw, env, isSecretPath);
  problems.push(...vars.problems);
  const ctx: WalkContext = { problems, unresolved: vars.unresolved };
  const root = vars.value;
  if (!isPlainObject(root)) {
    problems.push({ key: PLUGIN_CONFIG_KEY, message: `must be an object with "sync" and/or "backup", not ${kindOf(root)}` });
    return { config: {}, problems };
  }

  const nested = Object.hasOwn(root, "sync");
  let sync: Section<RawSync>;
  let rootValid: RawSync;
  if (nested) {
    rootValid = walkObject(root, NESTED_ROOT_SPEC, "", ctx, {
      ignore: new Set(["sync", "backup"]),
      misplaced: (k) =>
        Object.hasOwn(SYNC_SPEC.fields, k)
          ? 'is a sync setting at the top level, but this config has a "sync" block: move it inside "sync"'
          : misplacedBackupKey(k),
    }) as RawSync;
    const raw = isPlainObject(root.sync) ? root.sync : {};
    const valid = (walkObject(root.sync, SYNC_SPEC, "sync", ctx, { misplaced: misplacedBackupKey }) ?? {}) as RawSync;
    sync = { prefix: "sync", raw, valid };
  } else {
    rootValid = walkObject(root, FLAT_ROOT_SPEC, "", ctx, { ignore: new Set(["backup"]), misplaced: misplacedBackupKey }) as RawSync;
    sync = { prefix: "", raw: root, valid: rootValid };
  }

  const config: PluginConfig = {};
  if (rootValid.rclonePath !== undefined) config.rclonePath = expandHome(rootValid.rclonePath, env);
  const syncRemote = buildSyncRemote(sync, ctx, env);
  const syncConfig = buildSync(sync, syncRemote, ctx);
  if (syncConfig) config.sync = syncConfig;

  if (Object.hasOwn(root, "backup")) {
    const raw = isPlainObject(root.backup) ? root.backup : {};
    const valid = (walkObject(root.backup, BACKUP_SPEC, "backup", ctx, { misplaced: misplacedSyncKey }) ?? {}) as RawBackup;
    const backup = buildBackup({ prefix: "backup", raw, valid }, sync, syncRemote, ctx, env);
    if (backup) config.backup = backup;
  }
  return { config, problems };
}

function misplacedBackupKey(k: string): string | undefined {
  if (k === "backup") return 'belongs at the top level of the plugin config, beside "sync"';
  if (Object.hasOwn(SYNC_SPEC.fields, k) || !Object.hasOwn(BACKUP_SPEC.fields, k)) return undefined;
  return `is a backup setting: put it inside the "backup" block`;
}

function misplacedSyncKey(k: string): string | undefined {
  if (k === "crypt") return 'is not a backup setting: crypt wraps the sync remote only; backups are encrypted with "encrypt" plus "passphrase" or "recipients"';
  if (!Object.hasOwn(SYNC_SPEC.fields, k)) return undefined;
  return "is a sync setting, not a backup one: put it with the sync settings";
}

/** True when a problem was already reported at `key` or below it. */
function failed(ctx: WalkContext, key: string): boolean {
  return ctx.problems.some((p) => p.key === key || p.key.startsWith(`${key}.`) || p.key.startsWith(`${key}[`));
}

// --- remotes -------------------------------------------------------------------------------------------------------

interface RemoteRequest {
  section: Section<Blocks>;
  provider: Exclude<ProviderName, "off">;
  /** The provider block, already chosen (own or inherited); undefined when none was given. */
  block: unknown;
  /** Where the block came from, for messages; "" when absent. */
  blockKey: string;
  remoteName: string;
  configPath?: string;
  crypt?: CryptBlock;
  /** A bucket given outside the s3 block (backup.bucket). */
  bucketElsewhere?: boolean;
}

function blockHint(provider: BlockName): string {
  switch (provider) {
    case "local":
      return 'add "local": {"path": "/mnt/nas/openclaw"}';
    case "custom":
      return 'add "custom": {"rcloneType": "sftp", "rcloneOptions": {...}}';
    case "s3":
      return 'add an "s3" block with bucket, region and keys (endpoint for R2/B2/MinIO)';
    default:
      return `add a "${provider}" block with the token from \`workspace-sync authorize\``;
  }
}

/** Builds the RemoteSpec, or reports why it cannot be built (nothing when the cause was reported already). */
function buildRemote(req: RemoteRequest, ctx: WalkContext): RemoteSpec | undefined {
  const { section, provider, block } = req;
  const problemKey = keyOf(section, provider);
  if (block === undefined) {
    if (provider === "local" || provider === "custom") {
      ctx.problems.push({ key: problemKey, message: `is required for provider "${provider}": ${blockHint(provider)}` });
      return undefined;
    }
    if (!req.configPath) {
      ctx.problems.push({
        key: problemKey,
        message: `is required for provider "${provider}": ${blockHint(provider)}, or set configPath to your own rclone.conf to use its "${req.remoteName}" section as it is`,
      });
      return undefined;
    }
    if (req.crypt) {
      ctx.problems.push({
        key: keyOf(section, "crypt"),
        message: `cannot wrap a remote read from your own rclone.conf: define the crypt remote in ${req.configPath} and set remoteName to it, or give a "${provider}" block`,
      });
      return undefined;
    }
    return { provider, remoteName: req.remoteName, configPath: req.configPath };
  }
  if (failed(ctx, req.blockKey)) return undefined;
  const spec: RemoteSpec = { provider, remoteName: req.remoteName };
  if (req.configPath) spec.configPath = req.configPath;
  if (req.crypt) spec.crypt = req.crypt;
  switch (provider) {
    case "local": {
      const b = block as Partial<LocalBlock>;
      if (!b.path) return undefined;
      spec.local = { path: b.path };
      break;
    }
    case "custom": {
      const b = block as Partial<CustomBlock>;
      if (!b.rcloneType) return undefined;
      spec.custom = { rcloneType: b.rcloneType, rcloneOptions: b.rcloneOptions ?? {} };
      break;
    }
    case "s3": {
      const b = block as S3Block;
      if (!b.bucket && !req.bucketElsewhere && !req.configPath) {
        const forBackup = section.prefix === "backup";
        ctx.problems.push({
          key: forBackup ? keyOf(section, "bucket") : `${req.blockKey}.bucket`,
          message: forBackup
            ? 'is required for an s3 backup: set "bucket" in the backup block or in its s3 block'
            : "is required: the bucket to sync into (or set configPath to use your own rclone.conf section)",
        });
        return undefined;
      }
      spec.s3 = { ...b };
      break;
    }
    case "dropbox":
      spec.dropbox = { ...(block as DropboxBlock) };
      break;
    case "gdrive":
      spec.gdrive = { ...(block as GdriveBlock) };
      break;
    case "onedrive":
      spec.onedrive = { ...(block as OnedriveBlock) };
      break;
  }
  return spec;
}

/** Expands `~` in a local block's path (other blocks have no local paths). */
function withHome(b: unknown, env: Env): unknown {
  if (!isPlainObject(b) || typeof b.path !== "string") return b;
  return { ...b, path: expandHome(b.path, env) };
}

function syncProvider(sync: Section<RawSync>): ProviderName | undefined {
  return sync.valid.provider;
}

function buildSyncRemote(sync: Section<RawSync>, ctx: WalkContext, env: Env): RemoteSpec | undefined {
  const provider = syncProvider(sync);
  if (!provider || provider === "off") return undefined;
  if (has(sync, "crypt") && (failed(ctx, keyOf(sync, "crypt")) || !sync.valid.crypt?.password)) return undefined;
  if (has(sync, "configPath") && sync.valid.configPath === undefined) return undefined;
  if (has(sync, "remoteName") && sync.valid.remoteName === undefined) return undefined;
  const crypt = sync.valid.crypt as CryptBlock | undefined;
  return buildRemote(
    {
      section: sync,
      provider,
      block: has(sync, provider) ? withHome(sync.valid[provider], env) ?? {} : undefined,
      blockKey: keyOf(sync, provider),
      remoteName: sync.valid.remoteName ?? DEFAULT_REMOTE_NAME,
      configPath: sync.valid.configPath !== undefined ? expandHome(sync.valid.configPath, env) : undefined,
      crypt,
    },
    ctx,
  );
}

// --- sync ----------------------------------------------------------------------------------------------------------

function buildSync(sync: Section<RawSync>, remote: RemoteSpec | undefined, ctx: WalkContext): SyncConfig | undefined {
  const v = sync.valid;
  if (!has(sync, "provider")) {
    const intent = SYNC_INTENT.filter((k) => has(sync, k));
    if (intent.length > 0) {
      ctx.problems.push({
        key: keyOf(sync, "provider"),
        message: `is not set, so sync is off although ${intent.join(", ")} ${intent.length > 1 ? "are" : "is"} given; set provider to dropbox, gdrive, onedrive, s3, custom or local (or "off" to keep sync disabled)`,
      });
    }
    return undefined;
  }
  if (v.provider === "off") return undefined;
  if (!has(sync, "mode")) ctx.problems.push({ key: keyOf(sync, "mode"), message: `is required when sync is configured: choose ${MODE_HELP}` });
  if (!v.provider || !v.mode || !remote) return undefined;
  return {
    remote,
    mode: v.mode,
    remotePath: v.remotePath ?? "openclaw-share",
    localPath: v.localPath ?? "",
    interval: v.interval ?? 0,
    timeout: v.timeout ?? 1800,
    onSessionStart: v.onSessionStart ?? false,
    onSessionEnd: v.onSessionEnd ?? false,
    conflictResolve: v.conflictResolve ?? "newer",
    exclude: syncExcludes(sync),
    copySymlinks: v.copySymlinks ?? false,
    ingest: v.ingest ?? false,
    ingestPath: v.ingestPath ?? "inbox",
    notifyOnInbox: v.notifyOnInbox ?? false,
    maxDelete: v.maxDelete ?? 50,
    trashDays: v.trashDays ?? 7,
  };
}

/**
 * A user's `exclude` list REPLACES the defaults instead of adding to them: it is the only way to sync something a
 * default excludes (e.g. `.env.example`), and it matches the seed's "see below" default. Users who want the defaults
 * too list them (the docs print them).
 */
function syncExcludes(sync: Section<RawSync>): string[] {
  return [...(sync.valid.exclude ?? DEFAULT_EXCLUDES)];
}

// --- backup --------------------------------------------------------------------------------------------------------

function buildBackup(
  backup: Section<RawBackup>,
  sync: Section<RawSync>,
  syncRemote: RemoteSpec | undefined,
  ctx: WalkContext,
  env: Env,
): BackupConfig | undefined {
  const b = backup.valid;
  const { remote, idle } = backupRemote(backup, sync, syncRemote, ctx, env);
  if (idle) return undefined;
  checkEncryption(backup, ctx);
  if (!remote) return undefined;
  return {
    enabled: b.enabled ?? false,
    remote,
    ...(b.bucket !== undefined ? { bucket: b.bucket } : {}),
    prefix: b.prefix ?? "",
    interval: b.interval ?? 86400,
    timeout: b.timeout ?? 3600,
    encrypt: b.encrypt ?? false,
    ...(b.passphrase !== undefined ? { passphrase: b.passphrase } : {}),
    recipients: b.recipients ?? [],
    ...(b.identityFile !== undefined ? { identityFile: expandHome(b.identityFile, env) } : {}),
    include: b.include ?? [...DEFAULT_BACKUP_INCLUDE],
    retain: b.retain ?? 7,
    exclude: [...(b.exclude ?? syncExcludes(sync))],
    compression: b.compression ?? "zstd",
    allowPlaintextSecrets: b.allowPlaintextSecrets ?? false,
  };
}

function checkEncryption(backup: Section<RawBackup>, ctx: WalkContext): void {
  const b = backup.valid;
  if (has(backup, "encrypt") && b.encrypt === undefined) return; // its type problem is reported already
  const encrypt = b.encrypt ?? false;
  const hasPassphrase = has(backup, "passphrase");
  const hasRecipients = Array.isArray(backup.raw.recipients) && backup.raw.recipients.length > 0;
  const encryptKey = keyOf(backup, "encrypt");
  if (encrypt) {
    if (!hasPassphrase && !hasRecipients) {
      ctx.problems.push({
        key: encryptKey,
        message: 'is true but there is no key: set "passphrase" (e.g. "${BACKUP_PASSPHRASE}") or "recipients" (age public keys)',
      });
    } else if (hasPassphrase && hasRecipients) {
      ctx.problems.push({
        key: keyOf(backup, "passphrase"),
        message: 'and "recipients" are both set: choose one (recipients let a server back up without being able to read the backups)',
      });
    }
    return;
  }
  if (hasPassphrase || hasRecipients) {
    ctx.problems.push({
      key: encryptKey,
      message: `is ${has(backup, "encrypt") ? "false" : "not set"} although ${hasPassphrase ? '"passphrase"' : '"recipients"'} is given, so snapshots would be stored unencrypted; set "encrypt": true`,
    });
    return;
  }
  if (has(backup, "include") && b.include === undefined) return;
  const secretItems = (b.include ?? DEFAULT_BACKUP_INCLUDE).filter((i) => SECRET_ITEMS.includes(i));
  if (secretItems.length > 0 && !b.allowPlaintextSecrets) {
    ctx.problems.push({
      key: encryptKey,
      message: `is off, but the backup includes ${secretItems.join(", ")}, which hold API keys and tokens: set "encrypt": true with a "passphrase" or "recipients", or set "allowPlaintextSecrets": true to store them unencrypted on purpose, or remove them from "include"`,
    });
  }
}

/** The backup's remote; `idle` when backup is switched off or not set up at all (nothing else is checked then). */
function backupRemote(
  backup: Section<RawBackup>,
  sync: Section<RawSync>,
  syncRemote: RemoteSpec | undefined,
  ctx: WalkContext,
  env: Env,
): { remote?: RemoteSpec; idle: boolean } {
  const remote = pickBackupRemote(backup, sync, syncRemote, ctx, env);
  return remote === "idle" ? { idle: true } : { remote, idle: false };
}

function pickBackupRemote(
  backup: Section<RawBackup>,
  sync: Section<RawSync>,
  syncRemote: RemoteSpec | undefined,
  ctx: WalkContext,
  env: Env,
): RemoteSpec | undefined | "idle" {
  const b = backup.valid;
  const ownProvider = has(backup, "provider");
  if (ownProvider && !b.provider) return undefined; // invalid provider, reported
  const inheritedFromSync = syncProvider(sync);
  if (!ownProvider && has(sync, "provider") && !inheritedFromSync) return undefined; // sync's provider is invalid
  const provider = ownProvider ? b.provider : inheritedFromSync;
  const hasSettings = Object.keys(backup.raw).some((k) => k !== "enabled" && backup.raw[k] !== undefined);
  if (provider === "off" && ownProvider) {
    // Switched off on purpose: other settings may stay for later, but "enabled" contradicts it.
    if (!b.enabled) return "idle";
    ctx.problems.push({
      key: keyOf(backup, "provider"),
      message: 'is "off", so there is nowhere to store backups: choose s3, local, custom, dropbox, gdrive or onedrive (or set "enabled": false)',
    });
    return undefined;
  }
  if (!provider || provider === "off") {
    if (!b.enabled && !hasSettings) return "idle";
    ctx.problems.push({
      key: keyOf(backup, "provider"),
      message: "is not set and there is no sync provider to share: set backup.provider (s3, local, custom, ...) and its block",
    });
    return undefined;
  }
  for (const k of ["configPath", "remoteName"] as const) if (has(backup, k) && b[k] === undefined) return undefined;

  const syncRemoteName = sync.valid.remoteName ?? DEFAULT_REMOTE_NAME;
  const ownBlock = has(backup, provider);
  // Same provider, no block, name or file of its own: the backup lives on the sync remote (same rclone section).
  if (provider === inheritedFromSync && !ownBlock && !has(backup, "configPath") && !has(backup, "remoteName")) {
    if (!syncRemote) return undefined; // why it is missing was reported with the sync settings
    const { crypt: _crypt, ...shared } = syncRemote; // backups carry their own encryption, never the sync crypt
    return shared;
  }

  let block: unknown;
  let blockKey = "";
  if (ownBlock) {
    block = backup.valid[provider];
    blockKey = keyOf(backup, provider);
  } else if (has(sync, provider)) {
    // Provider blocks are shared: the sync settings may hold the credentials the backup uses.
    block = sync.valid[provider];
    blockKey = keyOf(sync, provider);
  }
  block = withHome(block, env);
  const configPath = b.configPath ?? sync.valid.configPath;
  let remoteName = b.remoteName;
  if (remoteName === undefined) {
    if (block !== undefined) remoteName = `${syncRemoteName}-backup`;
    else if (provider === inheritedFromSync) remoteName = syncRemoteName;
    else if (configPath !== undefined) {
      ctx.problems.push({
        key: keyOf(backup, "remoteName"),
        message: `is required to back up to "${provider}" through your own rclone.conf: name its section that holds the backup remote`,
      });
      return undefined;
    } else remoteName = `${syncRemoteName}-backup`;
  } else if (block !== undefined && syncRemote && remoteName === syncRemote.remoteName) {
    ctx.problems.push({
      key: keyOf(backup, "remoteName"),
      message: `must differ from the sync remote's name "${syncRemote.remoteName}": both sections would be written into the same rclone.conf`,
    });
    return undefined;
  }
  if (!blockKey) blockKey = keyOf(backup, provider);
  const spec = buildRemote(
    {
      section: backup,
      provider,
      block,
      blockKey,
      remoteName,
      configPath: configPath !== undefined ? expandHome(configPath, env) : undefined,
      bucketElsewhere: b.bucket !== undefined,
    },
    ctx,
  );
  return spec;
}
