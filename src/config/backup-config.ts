// The validated backup settings → BackupConfig: its remote (shared with sync or its own), defaults and the
// encryption rules (no key, two keys, or credentials stored in plain text).
import { expandHome, type Env, homeDir } from "./home.js";
import { buildRemote, withHome } from "./remote-spec.js";
import { DEFAULT_REMOTE_NAME, has, keyOf, type RawBackup, type RawSync, type Section } from "./sections.js";
import { syncExcludes, syncProvider } from "./sync-config.js";
import type { BackupConfig, BackupItem, RemoteSpec } from "./types.js";
import type { WalkContext } from "./walk.js";
import { configKey, recordKey } from "./config-keys.js";

export const DEFAULT_BACKUP_INCLUDE: BackupItem[] = ["workspace", "config", "cron", "memory"];
/** Backup items that hold credentials: never stored unencrypted unless the user says so. */
const SECRET_ITEMS: readonly BackupItem[] = ["config", "credentials", "env", "agents"];


export function buildBackup(
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
    format: b.format ?? "archive",
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
  if (b.format === "repository") {
    ctx.problems.push({
      key: keyOf(backup, "format"),
      message: 'is "repository", which is always encrypted: set "encrypt": true with a "passphrase" or "recipients" (or use "format": "archive" for unencrypted snapshots)',
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
  // A bad configPath or remoteName is reported already; go on so the block is checked too, but build nothing.
  const blocked = (["configPath", "remoteName"] as const).some((k) => has(backup, k) && b[k] === undefined);

  const syncRemoteName = sync.valid.remoteName ?? DEFAULT_REMOTE_NAME;
  const ownBlock = has(backup, provider);
  // Same provider, no block, name or file of its own: the backup lives on the sync remote (same rclone section).
  if (provider === inheritedFromSync && !ownBlock && !has(backup, "configPath") && !has(backup, "remoteName")) {
    if (!syncRemote) return undefined; // why it is missing was reported with the sync settings
    const { crypt: _crypt, ...shared } = syncRemote; // backups carry their own encryption, never the sync crypt
    recordKey(shared, configKey(syncRemote));
    return shared;
  }

  let block: unknown;
  let blockKey = "";
  if (ownBlock) {
    block = backup.valid[provider] ?? {}; // {} when invalid: buildRemote sees the reported problem and stops
    blockKey = keyOf(backup, provider);
  } else if (has(sync, provider)) {
    // Provider blocks are shared: the sync settings may hold the credentials the backup uses.
    block = sync.valid[provider] ?? {};
    blockKey = keyOf(sync, provider);
  }
  block = withHome(block, env);
  const configPath = has(backup, "configPath") ? (b.configPath ?? "/") : sync.valid.configPath;
  let remoteName = b.remoteName;
  if (blocked) remoteName ??= `${syncRemoteName}-backup`;
  else if (remoteName === undefined) {
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
      bucketElsewhere: has(backup, "bucket"),
      home: homeDir(env),
    },
    ctx,
  );
  return blocked ? undefined : spec;
}
