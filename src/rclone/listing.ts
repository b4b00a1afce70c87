// Recursive file listings through rclone (same filters as the transfer, so counts match what rclone does).
import type { RcloneBinary } from "./binary.js";
import { RcloneError, runRclone } from "./runner.js";
import type { RemoteProbe } from "./stall.js";

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
  /** Told the rclone child's pid (a sync cycle records its children so a later run can stop orphans). */
  onSpawn?: (pid: number) => void;
  /** Asked whether the remote still answers when the listing goes quiet (see stall.ts). */
  stallProbe?: RemoteProbe;
  /**
   * Accept an incomplete listing: when rclone listed some files but failed on others (an unreadable entry, a path
   * too long for the file system), return what it listed and hand the error here instead of throwing.
   */
  partial?: (error: RcloneError) => void;
  /** rclone's notices about entries it skipped (e.g. "Can't follow symlink without -L/--copy-links"). */
  onNotice?: (object: string, msg: string) => void;
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
    onSpawn: opts.onSpawn,
    stallProbe: opts.stallProbe,
    // rclone's NOTICE level is "warning" in its JSON log.
    onLog: opts.onNotice ? (e) => e.object && (e.level === "notice" || e.level === "warning") && opts.onNotice!(e.object, e.msg) : undefined,
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
    if (opts.partial && files.size > 0 && !result.timedOut && !result.aborted) {
      opts.partial(new RcloneError("lsjson", result));
      return files;
    }
    throw new RcloneError("lsjson", result);
  }
  return files;
}
