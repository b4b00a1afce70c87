// The answers of one setup run and the plugin config they make. Secrets never go into the config itself: it gets a
// ${VAR} placeholder and the value goes to <stateDir>/.env (0600), which OpenClaw and the standalone CLI both read.
import type { RetainPolicy, SyncMode } from "../config/types.js";
import type { Secret } from "./ask.js";
import type { RemoteProvider } from "./catalog.js";

export interface RemoteAnswers {
  provider: RemoteProvider;
  local?: { path: string };
  dropbox?: { appFolder: boolean; appKey?: string; appSecret?: Secret };
  gdrive?: { teamDrive?: string; rootFolderId?: string; clientId?: string; clientSecret?: Secret };
  onedrive?: { driveType: "personal" | "business" | "sharepoint"; driveId?: string; clientId?: string; clientSecret?: Secret };
  s3?: { provider: string; endpoint?: string; region?: string; bucket: string; accessKeyId?: Secret; secretAccessKey?: Secret };
  custom?: { rcloneType: string; options: Record<string, string | Secret> };
}

export interface SyncAnswers {
  remote: RemoteAnswers;
  mode: SyncMode;
  remotePath: string;
  localPath: string;
  interval: number;
  onSessionStart: boolean;
  onSessionEnd: boolean;
  crypt?: { password: Secret; password2?: Secret };
}

export type BackupEncryption = "passphrase" | "recipients" | "none";

export interface BackupAnswers {
  /** Undefined: the backups share the sync remote (same rclone section). */
  remote?: RemoteAnswers;
  prefix: string;
  encrypt: BackupEncryption;
  passphrase?: Secret;
  recipients?: string[];
  retain: number | RetainPolicy;
  interval: number;
}

export interface SetupAnswers {
  sync?: SyncAnswers;
  backup?: BackupAnswers;
  /** Carried over from the previous config: where rclone is on this machine. */
  rclonePath?: string;
}

/** Backup items when snapshots are not encrypted: the ones without credentials (config, env, … need encryption). */
export const PLAINTEXT_INCLUDE = ["workspace", "cron", "memory"];

type Json = Record<string, unknown>;

const ref = (s: Secret) => `\${${s.envVar}}`;

function collect(secrets: Secret[], s: Secret | undefined): string | undefined {
  if (!s) return undefined;
  secrets.push(s);
  return ref(s);
}

/** Object without undefined values (and without "" for optional text answers, except the keys in `keepEmpty`). */
function compact(o: Record<string, unknown>, keepEmpty: string[] = []): Json {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && (v !== "" || keepEmpty.includes(k))));
}

function remoteBlock(r: RemoteAnswers, secrets: Secret[]): Json {
  switch (r.provider) {
    case "local":
      return { path: r.local!.path };
    case "dropbox": {
      const d = r.dropbox!;
      return compact({ appFolder: d.appFolder || undefined, appKey: d.appKey, appSecret: collect(secrets, d.appSecret) });
    }
    case "gdrive": {
      const g = r.gdrive!;
      return compact({ teamDrive: g.teamDrive, rootFolderId: g.rootFolderId, clientId: g.clientId, clientSecret: collect(secrets, g.clientSecret) });
    }
    case "onedrive": {
      const o = r.onedrive!;
      return compact({ driveType: o.driveType, driveId: o.driveId, clientId: o.clientId, clientSecret: collect(secrets, o.clientSecret) });
    }
    case "s3": {
      const s = r.s3!;
      return compact({
        provider: s.provider,
        endpoint: s.endpoint,
        region: s.region,
        bucket: s.bucket,
        accessKeyId: collect(secrets, s.accessKeyId),
        secretAccessKey: collect(secrets, s.secretAccessKey),
      });
    }
    case "custom": {
      const c = r.custom!;
      const options: Json = {};
      for (const [k, v] of Object.entries(c.options)) options[k] = typeof v === "string" ? v : collect(secrets, v);
      return { rcloneType: c.rcloneType, rcloneOptions: options };
    }
  }
}

/** The plugin config (nested format) and the secrets to store in .env. */
export function toPluginConfig(a: SetupAnswers): { config: Json; secrets: Secret[] } {
  const secrets: Secret[] = [];
  const config: Json = {};
  if (a.sync) {
    const s = a.sync;
    // remotePath "" (the root of a Dropbox app folder) is meaningful: it is kept.
    config.sync = compact(
      {
      provider: s.remote.provider,
      mode: s.mode,
      remotePath: s.remotePath,
      localPath: s.localPath || undefined,
      interval: s.interval,
      onSessionStart: s.onSessionStart,
      onSessionEnd: s.onSessionEnd,
      [s.remote.provider]: remoteBlock(s.remote, secrets),
      crypt: s.crypt ? compact({ password: collect(secrets, s.crypt.password), password2: collect(secrets, s.crypt.password2) }) : undefined,
      },
      ["remotePath"],
    );
  } else {
    config.sync = { provider: "off" };
  }
  if (a.backup) {
    const b = a.backup;
    config.backup = compact({
      enabled: true,
      provider: b.remote?.provider,
      ...(b.remote ? { [b.remote.provider]: remoteBlock(b.remote, secrets) } : {}),
      prefix: b.prefix,
      interval: b.interval,
      encrypt: b.encrypt !== "none",
      passphrase: b.encrypt === "passphrase" ? collect(secrets, b.passphrase) : undefined,
      recipients: b.encrypt === "recipients" ? b.recipients : undefined,
      include: b.encrypt === "none" ? [...PLAINTEXT_INCLUDE] : undefined,
      retain: b.retain,
      // New setups get the deduplicating repository. Recipients keep one-file archives: only there can the gateway
      // not read old backups (a repository needs its key to write); unencrypted backups are archives too.
      format: b.encrypt === "passphrase" ? "repository" : undefined,
    });
  }
  if (a.rclonePath) config.rclonePath = a.rclonePath;
  return { config, secrets };
}

/** Secrets as a variables map (later answers for the same variable win; they are the same answer). */
export function secretVars(secrets: Secret[]): Record<string, string> {
  return Object.fromEntries(secrets.map((s) => [s.envVar, s.value]));
}
