// A provider block (own, shared or absent) → the RemoteSpec the rclone layer writes, or the reason it cannot be built.
import { expandHome, type Env } from "./home.js";
import { SYSTEM_FOLDER_ADVICE, systemFolderReason } from "./system-folders.js";
import { recordKey } from "./config-keys.js";
import type { BlockName } from "./schema.js";
import { type Blocks, failed, keyOf, type Section } from "./sections.js";
import type { CryptBlock, CustomBlock, DropboxBlock, GdriveBlock, LocalBlock, OnedriveBlock, ProviderName, RemoteSpec, S3Block } from "./types.js";
import { isPlainObject, type WalkContext } from "./walk.js";

export interface RemoteRequest {
  section: Section<Blocks>;
  provider: Exclude<ProviderName, "off">;
  /** The provider block, already chosen (own or inherited); undefined when none was given. */
  block: unknown;
  /** Where the block came from, for messages; "" when absent. */
  blockKey: string;
  remoteName: string;
  configPath?: string;
  crypt?: CryptBlock;
  /** A crypt block was written (valid or not). */
  cryptGiven?: boolean;
  /** A bucket given outside the s3 block (backup.bucket). */
  bucketElsewhere?: boolean;
  /** The user's home folder (a local target may not be the home folder itself). */
  home?: string;
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
export function buildRemote(req: RemoteRequest, ctx: WalkContext): RemoteSpec | undefined {
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
    if (req.cryptGiven) {
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
  recordKey(spec, req.blockKey);
  if (req.configPath) spec.configPath = req.configPath;
  if (req.crypt) spec.crypt = req.crypt;
  switch (provider) {
    case "local": {
      const b = block as Partial<LocalBlock>;
      if (!b.path) return undefined;
      const reason = systemFolderReason(b.path, req.home);
      if (reason) {
        ctx.problems.push({ key: `${req.blockKey}.path`, message: `${reason}: ${SYSTEM_FOLDER_ADVICE}` });
        return undefined;
      }
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
export function withHome(b: unknown, env: Env): unknown {
  if (!isPlainObject(b) || typeof b.path !== "string") return b;
  return { ...b, path: expandHome(b.path, env) };
}
