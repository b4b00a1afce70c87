// Everything one sync cycle needs, resolved once from config + locations.
import path from "node:path";
import type { SyncConfig } from "../config/types.js";
import type { RcloneBinary } from "../rclone/binary.js";
import type { ResolvedRemote } from "../rclone/remotes.js";
import type { RcloneStats } from "../rclone/log-parse.js";
import { stallProbeOf } from "../rclone/reach.js";
import type { RemoteProbe } from "../rclone/stall.js";
import { pairId, productDir } from "../state/paths.js";
import type { Logger } from "../util/logger.js";
import type { DeleteLimit } from "./guard.js";

export interface SyncJob {
  bin: RcloneBinary;
  config: SyncConfig;
  workspaceDir: string;
  /** workspace + localPath: the local side of the pair. */
  localRoot: string;
  remote: ResolvedRemote;
  stateDir: string;
  /**
   * Patterns (relative to the sync root, both sides) no transfer may touch: the backup objects when the backup folder
   * lies inside the sync folder, and OpenClaw's own state when it lies inside the workspace (app/locations.ts).
   */
  protectedPatterns: string[];
  /** `sync --max-delete`: this run's deletion limit instead of sync.maxDelete. */
  maxDeleteOverride?: DeleteLimit;
  /** Why the workspace cannot be synced (it does not exist): a cycle refuses before touching anything. */
  workspaceMissing?: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  onStats?: (stats: RcloneStats) => void;
  signal?: AbortSignal;
  /** Called with every rclone child pid so a later run can stop orphans of a killed run. */
  onChild?: (pid: number) => void;
}

export function pairKey(job: SyncJob): string {
  return pairId(job.localRoot, job.remote.path(""));
}

export function pairStateDir(job: SyncJob): string {
  return path.join(productDir(job.stateDir), "pairs", pairKey(job));
}

/** The options every rclone call of a cycle takes. */
export interface RcloneCallOptions {
  configPath: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  timeoutMs?: number;
  onSpawn?: (pid: number) => void;
  stallProbe?: RemoteProbe;
}

/**
 * What every rclone call of a cycle passes: the pair's rclone.conf, the environment, cancellation, the timeout, the
 * recording of child pids (so a later run can stop orphans of a killed one), and the probe the runner's stall watch
 * uses to stop a call that went quiet against a remote that no longer answers (rclone/stall.ts).
 */
export function rcloneCallOptions(job: SyncJob): RcloneCallOptions {
  return {
    configPath: job.remote.configPath,
    env: job.env,
    signal: job.signal,
    timeoutMs: job.config.timeout * 1000,
    onSpawn: job.onChild,
    stallProbe: stallProbeOf(job.bin, job.remote, job.env, job.onChild),
  };
}

/**
 * Stats callback for a transfer. Transfers always report stats, shown or not: the runner's stall watch reads them
 * to tell a transfer that moves from one that hangs (the plugin service shows no progress).
 */
export function transferStats(job: SyncJob): (stats: RcloneStats) => void {
  return job.onStats ?? (() => {});
}

/** Flags for a listing: one recursive request on object stores; on S3, no HEAD probing whether the folder is a file. */
export function listingFlags(job: SyncJob): string[] {
  const flags: string[] = [];
  if (job.remote.isBucketStore) flags.push("--fast-list");
  if (job.remote.backendType === "s3") flags.push("--s3-no-head-object");
  return flags;
}

/** Common rclone flags for a pair: listing and comparison tuned to the backend. */
export function transferFlags(job: SyncJob): string[] {
  const flags: string[] = [];
  if (job.remote.isBucketStore) flags.push("--fast-list", "--checksum");
  flags.push(job.config.copySymlinks ? "--copy-links" : "--skip-links");
  return flags;
}
