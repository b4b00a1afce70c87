// Maps a provider block to rclone config sections and to the rclone path of a folder on that remote.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { RemoteSpec } from "../config/types.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { type ConfSection, updateSections } from "./conf-file.js";
import { obscure, obscureOnce, reveal } from "./obscure.js";

export interface ResolvedRemote {
  /** rclone.conf passed to every rclone call for this remote. */
  configPath: string;
  /** True when the user's own rclone.conf is used as is (no provider block). */
  readOnly: boolean;
  /** Sections the product owns and writes before use. */
  sections: Record<string, ConfSection>;
  /** rclone backend type of the underlying storage (s3, drive, local, sftp, ...). */
  backendType: string;
  /** Object stores list recursively in one call (ListR) and have no real directories or mtimes-by-default. */
  isBucketStore: boolean;
  /** rclone path for `sub` (relative, "" = the base folder). */
  path(sub?: string): string;
  /** Human-readable location without secrets, for status and messages. */
  display: string;
  /** The base folder on this machine, for a `local` remote without crypt (what rclone would write to). */
  localDir?: string;
}

/** rclone backend types that authenticate with an OAuth token from `rclone authorize`. */
export const OAUTH_TYPES: ReadonlySet<string> = new Set(["dropbox", "drive", "onedrive"]);
/** Options `workspace-sync authorize` writes into an OAuth section, kept when the config does not set them. */
export const AUTHORIZED_KEYS: ReadonlySet<string> = new Set(["token", "drive_id", "drive_type"]);

// rclone backend options that hold passwords and must be stored obscured (IsPassword in rclone's backends).
const PASSWORD_OPTIONS = new Set([
  "pass",
  "password",
  "password2",
  "key_file_pass",
  "sas_url_pass",
  "api_password",
  "file_password",
  "folder_password",
  "library_key",
  "mailbox_password",
]);

function joinRemotePath(...parts: (string | undefined)[]): string {
  return parts
    .filter((p): p is string => !!p)
    .flatMap((p) => p.split("/"))
    .filter((seg) => seg !== "" && seg !== ".")
    .join("/");
}

function s3Provider(endpoint: string | undefined, explicit: string | undefined): string {
  if (explicit) return explicit;
  if (!endpoint) return "AWS";
  if (/r2\.cloudflarestorage\.com/.test(endpoint)) return "Cloudflare";
  if (/amazonaws\.com/.test(endpoint)) return "AWS";
  return "Other";
}

function stringOptions(options: Record<string, string | number | boolean>): ConfSection {
  const out: ConfSection = {};
  for (const [key, value] of Object.entries(options)) {
    const text = String(value);
    // Given obscured (copied from an existing rclone.conf) or plain: obscured exactly once, as `rclone config create` does.
    out[key] = PASSWORD_OPTIONS.has(key) ? obscureOnce(text) : text;
  }
  return out;
}

function baseSection(spec: RemoteSpec): { section: ConfSection; type: string; bucket?: string; localRoot?: string } {
  const drop = (o: Record<string, string | undefined>): ConfSection =>
    Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""));
  switch (spec.provider) {
    case "local":
      return { section: { type: "local" }, type: "local", localRoot: spec.local!.path };
    case "dropbox": {
      const b = spec.dropbox ?? {};
      return { section: drop({ type: "dropbox", client_id: b.appKey, client_secret: b.appSecret, token: b.token }), type: "dropbox" };
    }
    case "gdrive": {
      const b = spec.gdrive ?? {};
      return {
        section: drop({
          type: "drive",
          scope: "drive",
          client_id: b.clientId,
          client_secret: b.clientSecret,
          token: b.token,
          team_drive: b.teamDrive,
          root_folder_id: b.rootFolderId,
        }),
        type: "drive",
      };
    }
    case "onedrive": {
      const b = spec.onedrive ?? {};
      return {
        section: drop({
          type: "onedrive",
          client_id: b.clientId,
          client_secret: b.clientSecret,
          token: b.token,
          drive_id: b.driveId,
          drive_type: b.driveType,
        }),
        type: "onedrive",
      };
    }
    case "s3": {
      const b = spec.s3 ?? {};
      return {
        section: drop({
          type: "s3",
          provider: s3Provider(b.endpoint, b.provider),
          env_auth: b.accessKeyId ? "false" : "true",
          access_key_id: b.accessKeyId,
          secret_access_key: b.secretAccessKey,
          region: b.region,
          endpoint: b.endpoint,
        }),
        type: "s3",
        bucket: b.bucket,
      };
    }
    case "custom": {
      const b = spec.custom!;
      return { section: { type: b.rcloneType, ...stringOptions(b.rcloneOptions) }, type: b.rcloneType };
    }
  }
}

const BUCKET_TYPES = new Set(["s3", "b2", "gcs", "google cloud storage", "azureblob", "swift", "oos", "qingstor", "storj"]);

/**
 * @param basePath folder on the remote (remotePath for sync, bucket/prefix for backup) — relative.
 * @param defaultConfPath the product's own rclone.conf (under the state dir).
 */
export function resolveRemote(spec: RemoteSpec, basePath: string, defaultConfPath: string, opts: { withCrypt?: boolean } = {}): ResolvedRemote {
  const hasBlock = !!(spec.local || spec.dropbox || spec.gdrive || spec.onedrive || spec.s3 || spec.custom);
  const configPath = spec.configPath ?? defaultConfPath;
  if (spec.configPath && !hasBlock && spec.provider !== "local") {
    // The user's rclone.conf, used read-only: the remote is their section `remoteName`.
    const base = joinRemotePath(basePath);
    return {
      configPath,
      readOnly: true,
      sections: {},
      backendType: spec.provider === "gdrive" ? "drive" : spec.provider,
      isBucketStore: spec.provider === "s3",
      path: (sub = "") => `${spec.remoteName}:${joinRemotePath(base, sub)}`,
      display: `${spec.remoteName}:${base} (from ${spec.configPath})`,
    };
  }
  const { section, type, bucket, localRoot } = baseSection(spec);
  const sections: Record<string, ConfSection> = { [spec.remoteName]: section };
  const rootOnBackend = localRoot !== undefined ? joinRemotePath(localRoot) : joinRemotePath(bucket);
  const lead = localRoot !== undefined ? "/" : "";
  let base = `${spec.remoteName}:${lead}${joinRemotePath(rootOnBackend, basePath)}`;
  let display = `${spec.provider}:${lead}${joinRemotePath(rootOnBackend, basePath)}`;
  if (opts.withCrypt && spec.crypt) {
    const cryptName = `${spec.remoteName}-crypt`;
    const cryptSection: ConfSection = { type: "crypt", remote: base, password: obscure(spec.crypt.password) };
    if (spec.crypt.password2) cryptSection.password2 = obscure(spec.crypt.password2);
    sections[cryptName] = cryptSection;
    base = `${cryptName}:`;
    display = `crypt(${display})`;
  }
  const baseCopy = base;
  const plainLocal = localRoot !== undefined && !(opts.withCrypt && spec.crypt);
  return {
    configPath,
    readOnly: false,
    sections,
    backendType: type,
    isBucketStore: BUCKET_TYPES.has(type),
    ...(plainLocal ? { localDir: `/${joinRemotePath(rootOnBackend, basePath)}` } : {}),
    path: (sub = "") => {
      const rel = joinRemotePath(sub);
      if (!rel) return baseCopy;
      return baseCopy.endsWith(":") || baseCopy.endsWith("/") ? `${baseCopy}${rel}` : `${baseCopy}/${rel}`;
    },
    display,
  };
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

function sameObscured(a: string, b: string): boolean {
  try {
    return reveal(a) === reveal(b);
  } catch {
    return false;
  }
}

/**
 * Writes the remote's sections into its rclone.conf, leaving every other section alone.
 * - Obscured passwords get a fresh random IV on every obscure() call, so an unchanged password keeps
 *   the file's existing text (no rewrite on every run).
 * - An OAuth token rclone refreshed in the file wins over the product config's token as long as the
 *   config still holds the token we wrote last time (tracked by hash in a 0600 sidecar file).
 */
export async function writeRemoteSections(remote: ResolvedRemote): Promise<boolean> {
  if (remote.readOnly) return false;
  const metaFile = `${remote.configPath}.owned.json`;
  let lastTokens: Record<string, string> = {};
  try {
    lastTokens = JSON.parse(await readFile(metaFile, "utf8")) as Record<string, string>;
  } catch {
    lastTokens = {};
  }
  const changed = await updateSections(remote.configPath, remote.sections, (name, key, existingValue, existingSection) => {
    const wanted = remote.sections[name]?.[key];
    // What `workspace-sync authorize` stored (token, OneDrive's drive) stays while the config does not set it and the
    // section still is the same backend.
    if (wanted === undefined) {
      const type = remote.sections[name]?.type;
      return AUTHORIZED_KEYS.has(key) && type !== undefined && OAUTH_TYPES.has(type) && existingSection.type === type;
    }
    if (PASSWORD_OPTIONS.has(key)) return sameObscured(existingValue, wanted);
    if (key === "token") return lastTokens[name] === sha(wanted) && existingValue !== wanted;
    return false;
  });
  const tokens = { ...lastTokens };
  for (const [name, section] of Object.entries(remote.sections)) if (section.token) tokens[name] = sha(section.token);
  if (JSON.stringify(tokens) !== JSON.stringify(lastTokens)) await writeFileAtomic(metaFile, JSON.stringify(tokens));
  return changed;
}

/**
 * Records `token` as the config's token for section `name` (as if the product had written it), so a token stored in
 * the file by `workspace-sync authorize` wins over it until the config's token changes.
 */
export async function markConfigToken(configPath: string, name: string, token: string): Promise<void> {
  const metaFile = `${configPath}.owned.json`;
  let tokens: Record<string, string> = {};
  try {
    tokens = JSON.parse(await readFile(metaFile, "utf8")) as Record<string, string>;
  } catch {
    tokens = {};
  }
  tokens[name] = sha(token);
  await writeFileAtomic(metaFile, JSON.stringify(tokens));
}
