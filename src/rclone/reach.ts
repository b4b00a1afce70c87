// "Does the remote answer?" for every backend. `rclone about` does not work on S3-like remotes, so this lists one
// level of the folder instead (the cheapest request every backend has). A folder that does not exist yet is fine (the
// first run creates it); on bucket stores the bucket itself must exist, so a missing folder is followed by a listing
// of the bucket.
import type { RcloneBinary } from "./binary.js";
import type { ResolvedRemote } from "./remotes.js";
import { runRclone, summarizeFailure } from "./runner.js";

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
