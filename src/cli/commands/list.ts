// `workspace-sync list [PATH]`: what is on the remote under remotePath.
import path from "node:path";
import { buildSyncJob } from "../../app/sync-job.js";
import { RcloneError, runRclone } from "../../rclone/runner.js";
import { formatRemoteEntries, type RemoteEntry, remoteEntriesJson } from "../../report/list.js";
import { rcloneCallOptions } from "../../sync/job.js";
import { FlagError } from "../../util/errors.js";
import type { Invocation } from "../invocation.js";

export async function run(inv: Invocation): Promise<void> {
  const sub = inv.args[0];
  const flags = inv.opts as { recursive?: boolean };
  const rel = path.posix.normalize((sub ?? "").replace(/\\/g, "/")).replace(/^\.\/?|^\/+/, "");
  if (rel.split("/").includes("..")) throw new FlagError(`PATH must stay inside the remote folder (got "${sub}")`);
  const job = await buildSyncJob(await inv.context());
  const entries: RemoteEntry[] = [];
  const args = ["lsjson", job.remote.path(rel === "." ? "" : rel), "--no-mimetype"];
  if (flags.recursive) args.push("-R");
  if (job.remote.isBucketStore) args.push("--fast-list");
  const res = await runRclone(job.bin, {
    args,
    ...rcloneCallOptions(job),
    stdout: {
      lines: (line) => {
        const text = line.trim().replace(/,$/, "");
        if (text.startsWith("{")) entries.push(JSON.parse(text) as RemoteEntry);
      },
    },
  });
  if (res.code !== 0) throw new RcloneError("lsjson", res);
  entries.sort((a, b) => a.Path.localeCompare(b.Path));
  inv.out.result(formatRemoteEntries(entries, `${job.remote.display}${rel && rel !== "." ? `/${rel}` : ""}`), remoteEntriesJson(entries));
}
