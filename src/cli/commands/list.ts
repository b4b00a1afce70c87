// `workspace-sync list [PATH]`: what is on the remote under remotePath.
import path from "node:path";
import { buildSyncJob } from "../../app/sync-job.js";
import type { AppContext } from "../../app/context.js";
import { RcloneError, runRclone } from "../../rclone/runner.js";
import { UsageError } from "../../util/errors.js";
import { formatBytes } from "../progress.js";

interface Entry {
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
}

export async function listCommand(ctx: AppContext, sub: string | undefined, flags: { json?: boolean; recursive?: boolean }): Promise<void> {
  const rel = path.posix.normalize((sub ?? "").replace(/\\/g, "/")).replace(/^\.\/?|^\/+/, "");
  if (rel.split("/").includes("..")) throw new UsageError(`PATH must stay inside the remote folder (got "${sub}")`);
  const job = await buildSyncJob(ctx);
  const entries: Entry[] = [];
  const args = ["lsjson", job.remote.path(rel === "." ? "" : rel), "--no-mimetype"];
  if (flags.recursive) args.push("-R");
  if (job.remote.isBucketStore) args.push("--fast-list");
  const res = await runRclone(job.bin, {
    args,
    configPath: job.remote.configPath,
    env: job.env,
    timeoutMs: job.config.timeout * 1000,
    stdout: {
      lines: (line) => {
        const text = line.trim().replace(/,$/, "");
        if (text.startsWith("{")) entries.push(JSON.parse(text) as Entry);
      },
    },
  });
  if (res.code !== 0) throw new RcloneError("lsjson", res);
  entries.sort((a, b) => a.Path.localeCompare(b.Path));
  if (flags.json) {
    const out = entries.map((e) => ({ path: e.Path, size: e.IsDir ? null : e.Size, modTime: e.ModTime, isDir: e.IsDir }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  for (const e of entries) process.stdout.write(`${e.IsDir ? "dir " : "    "} ${e.IsDir ? "".padStart(10) : formatBytes(e.Size).padStart(10)}  ${e.ModTime.slice(0, 19)}  ${e.Path}${e.IsDir ? "/" : ""}\n`);
  if (entries.length === 0) process.stdout.write(`(empty: ${job.remote.display}${rel ? `/${rel}` : ""})\n`);
}
