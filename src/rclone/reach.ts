// "Does the remote answer?" for every backend. `rclone about` does not work on S3-like remotes, so this lists one
// level of the folder instead (the cheapest request every backend has). A folder that does not exist yet is fine (the
// first run creates it); on bucket stores the bucket itself must exist, so a missing folder is followed by a listing
// of the bucket.
import type { RcloneBinary } from "./binary.js";
import type { ResolvedRemote } from "./remotes.js";
import { runRclone, summarizeFailure } from "./runner.js";
import { CONNECTION_LOST, type RemoteProbe } from "./stall.js";

export type Reach = { ok: true; folderExists: boolean } | { ok: false; error: string; missingBucket?: string };

/** rclone's exit code for "directory not found". */
const NOT_FOUND = 3;

async function lsf(bin: RcloneBinary, target: string, configPath: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  return runRclone(bin, { args: ["lsf", target, "--max-depth", "1", "--dirs-only"], configPath, env, timeoutMs });
}

/**
 * @param bucketRoot for bucket stores, the rclone path of the bucket (remote:bucket); a missing bucket is reported.
 */
export async function checkReachable(
  bin: RcloneBinary,
  remote: Pick<ResolvedRemote, "configPath" | "path">,
  env: NodeJS.ProcessEnv,
  opts: { bucketRoot?: string; timeoutMs?: number } = {},
): Promise<Reach> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const res = await lsf(bin, remote.path(""), remote.configPath, env, timeoutMs);
  if (res.code === 0) return { ok: true, folderExists: true };
  if (res.code !== NOT_FOUND) return { ok: false, error: summarizeFailure("lsf", res) };
  if (!opts.bucketRoot || opts.bucketRoot === remote.path("")) {
    return opts.bucketRoot ? { ok: false, error: `the bucket ${opts.bucketRoot} does not exist`, missingBucket: opts.bucketRoot } : { ok: true, folderExists: false };
  }
  const bucket = await lsf(bin, opts.bucketRoot, remote.configPath, env, timeoutMs);
  if (bucket.code === 0) return { ok: true, folderExists: false };
  if (bucket.code === NOT_FOUND) return { ok: false, error: `the bucket ${opts.bucketRoot} does not exist`, missingBucket: opts.bucketRoot };
  return { ok: false, error: summarizeFailure("lsf", bucket) };
}

/** The bucket of a bucket-store remote as an rclone path (`remote:bucket`), or undefined for other backends. */
export function bucketRootOf(remote: ResolvedRemote, rootRemote: ResolvedRemote): string | undefined {
  if (!remote.isBucketStore || remote.readOnly) return undefined;
  const root = rootRemote.path("");
  return root.endsWith(":") ? undefined : root;
}

/** How long a stall probe may take before the remote counts as not answering. */
export const PROBE_TIMEOUT_MS = 30_000;

/**
 * A quick "does the remote still answer?" for an rclone call that went quiet (stall.ts): one stat of the folder, a
 * second attempt at most, 30 s in all. A folder that does not exist is an answer, and so is any failure that is not
 * about the connection (a throttled or refused request came from a live server). Cancelled: no verdict.
 */
export async function remoteAnswers(
  bin: RcloneBinary,
  remote: Pick<ResolvedRemote, "configPath" | "path">,
  env: NodeJS.ProcessEnv,
  opts: { signal: AbortSignal; onSpawn?: (pid: number) => void; timeoutMs?: number },
): Promise<boolean> {
  const res = await runRclone(bin, {
    args: ["lsjson", remote.path(""), "--stat", "--contimeout", "10s", "--low-level-retries", "2", "--retries", "1"],
    configPath: remote.configPath,
    env,
    signal: opts.signal,
    onSpawn: opts.onSpawn,
    timeoutMs: opts.timeoutMs ?? PROBE_TIMEOUT_MS,
    stdout: { capture: 1 << 16 },
  });
  if (res.aborted) return true;
  if (res.timedOut) return false;
  if (res.code === 0 || res.code === NOT_FOUND) return true;
  return !res.errors.some((e) => CONNECTION_LOST.test(e));
}

/** The stall watch's probe (runner `stallProbe`) for calls on `remote`: remoteAnswers, its rclone told to `onSpawn`. */
export function stallProbeOf(
  bin: RcloneBinary,
  remote: Pick<ResolvedRemote, "configPath" | "path">,
  env: NodeJS.ProcessEnv,
  onSpawn?: (pid: number) => void,
): RemoteProbe {
  return (signal) => remoteAnswers(bin, remote, env, { signal, ...(onSpawn ? { onSpawn } : {}) });
}
