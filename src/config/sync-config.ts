// The validated sync settings → SyncConfig with its defaults, and the sync remote (also shared by backups).
import { expandHome, type Env, homeDir } from "./home.js";
import { buildRemote, withHome } from "./remote-spec.js";
import { DEFAULT_REMOTE_NAME, failed, has, keyOf, type RawSync, type Section } from "./sections.js";
import { type CryptBlock, DEFAULT_EXCLUDES, type ProviderName, type RemoteSpec, type SyncConfig } from "./types.js";
import type { WalkContext } from "./walk.js";
import { recordKey } from "./config-keys.js";

// Keys that only make sense when sync runs: giving them without a provider means sync was meant to be on.
const SYNC_INTENT = ["mode", "remotePath", "localPath", "interval", "onSessionStart", "onSessionEnd", "ingest", "notifyOnInbox", "crypt"];

const MODE_HELP =
  '"mailbox" (safest: the workspace pushes to the cloud, files come back through _outbox), "mirror" (one way: the cloud copy follows the workspace) or "bisync" (two-way; read the docs first)';

export function syncProvider(sync: Section<RawSync>): ProviderName | undefined {
  return sync.valid.provider;
}

export function buildSyncRemote(sync: Section<RawSync>, ctx: WalkContext, env: Env): RemoteSpec | undefined {
  const provider = syncProvider(sync);
  if (!provider || provider === "off") return undefined;
  const crypt = sync.valid.crypt?.password !== undefined ? (sync.valid.crypt as CryptBlock) : undefined;
  // A bad crypt, configPath or remoteName is reported already; the block is still checked so every problem shows.
  const blocked =
    (has(sync, "crypt") && (failed(ctx, keyOf(sync, "crypt")) || !crypt)) ||
    (has(sync, "configPath") && sync.valid.configPath === undefined) ||
    (has(sync, "remoteName") && sync.valid.remoteName === undefined);
  const spec = buildRemote(
    {
      section: sync,
      provider,
      block: has(sync, provider) ? (withHome(sync.valid[provider], env) ?? {}) : undefined,
      blockKey: keyOf(sync, provider),
      remoteName: sync.valid.remoteName ?? DEFAULT_REMOTE_NAME,
      configPath: has(sync, "configPath") ? expandHome(sync.valid.configPath ?? "/", env) : undefined,
      crypt,
      cryptGiven: has(sync, "crypt"),
      home: homeDir(env),
    },
    ctx,
  );
  return blocked ? undefined : spec;
}


export function buildSync(sync: Section<RawSync>, remote: RemoteSpec | undefined, ctx: WalkContext): SyncConfig | undefined {
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
  const config: SyncConfig = {
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
    excludeSecrets: v.excludeSecrets ?? true,
    copySymlinks: v.copySymlinks ?? false,
    ingest: v.ingest ?? false,
    ingestPath: v.ingestPath ?? "inbox",
    notifyOnInbox: v.notifyOnInbox ?? false,
    maxDelete: v.maxDelete ?? 50,
    trashDays: v.trashDays ?? 7,
    fullSyncInterval: v.fullSyncInterval ?? 86_400,
  };
  recordKey(config, sync.prefix);
  return config;
}

/**
 * A user's `exclude` list REPLACES the defaults instead of adding to them: it is the only way to sync something a
 * default excludes (e.g. `.env.example`), and it matches the seed's "see below" default. Users who want the defaults
 * too list them (the docs print them).
 */
export function syncExcludes(sync: Section<RawSync>): string[] {
  return [...(sync.valid.exclude ?? DEFAULT_EXCLUDES)];
}
