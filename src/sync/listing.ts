// Recursive file listings through rclone (same filters as the transfer, so counts match what rclone does).
import type { RcloneBinary } from "../rclone/binary.js";
import { RcloneError, runRclone } from "../rclone/runner.js";

export interface ListedFile {
  path: string;
  size: number;
  modTime: string;
}

export interface ListOptions {
  configPath: string;
  filterArgs?: string[];
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
  dirs?: boolean;
  recursive?: boolean;
}

/** Lists files (streamed line by line: rclone prints one JSON object per line). Missing folder → empty. */
export async function listFiles(bin: RcloneBinary, target: string, opts: ListOptions): Promise<Map<string, ListedFile>> {
  const files = new Map<string, ListedFile>();
  const args = ["lsjson", target, opts.dirs ? "--dirs-only" : "--files-only", "--no-mimetype", ...(opts.extraArgs ?? []), ...(opts.filterArgs ?? [])];
  if (opts.recursive !== false) args.push("-R");
  const result = await runRclone(bin, {
    args,
    configPath: opts.configPath,
    env: opts.env,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    stdout: {
      lines: (line) => {
        const text = line.trim().replace(/,$/, "");
        if (!text.startsWith("{")) return;
        const item = JSON.parse(text) as { Path: string; Size: number; ModTime: string };
        files.set(item.Path, { path: item.Path, size: item.Size, modTime: item.ModTime });
      },
    },
  });
  if (result.code === 3) return files; // rclone: directory not found
  if (result.code !== 0) {
    if (result.errors.some((e) => /directory not found|not found|doesn't exist|NoSuchKey/i.test(e)) && files.size === 0) return files;
    throw new RcloneError("lsjson", result);
  }
  return files;
}
