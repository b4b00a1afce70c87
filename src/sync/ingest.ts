// Mirror-mode ingest: files the user drops in <remotePath>/<ingestPath>/ are copied (never moved or
// deleted) into the workspace <ingestPath>/. A ledger of what was taken in stops a file the agent
// consumed and removed from coming back, unless the remote copy changed.
//
// Exactly once under kill -9: a staged file is linked into place and stays linked in staging until the ledger
// records it, so a killed run's staged file with a link count above 1 was delivered and only needs its ledger
// entry. Only whole copies (size and time of the listed source) are ever placed.
import { rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { RcloneError, runRclone } from "../rclone/runner.js";
import { readJson, writeJson } from "../state/state-store.js";
import type { SyncJob } from "./job.js";
import { listingFlags, pairStateDir, rcloneCallOptions, transferStats } from "./job.js";
import { type ListedFile, listFiles } from "../rclone/listing.js";
import { LOCAL_PRODUCT_DIR } from "./filters.js";
import { ownFolder } from "./own-folder.js";
import { rcloneName } from "../rclone/names.js";
import { linkNoClobber, walkFiles } from "./place.js";

type Ledger = Record<string, { size: number; modTime: string }>;

export interface IngestResult {
  arrived: string[];
  dryRun: boolean;
}

/** A staged file's key: the name rclone lists its source under. */
const keyOf = (rel: string) => rcloneName(rel.split(path.sep).join("/"));

/** rclone gives a finished local copy the source's size and modification time (sftp keeps whole seconds). */
function whole(src: ListedFile | undefined, st: { size: number; mtimeMs: number }): src is ListedFile {
  return !!src && src.size === st.size && Math.abs(Date.parse(src.modTime) - st.mtimeMs) < 1000;
}

export async function ingest(job: SyncJob, opts: { dryRun?: boolean } = {}): Promise<IngestResult> {
  const ingestPath = job.config.ingestPath;
  const source = job.remote.path(ingestPath);
  const ledgerFile = path.join(pairStateDir(job), "ingest-ledger.json");
  const common = rcloneCallOptions(job);
  const listFlags = listingFlags(job);
  // An unreadable drop (a path too long for the file system, say) must not stop the others: they are taken in
  // and the cycle fails afterwards with rclone's error.
  let incomplete: RcloneError | undefined;
  const remote = await listFiles(job.bin, source, { ...common, extraArgs: listFlags, partial: (err) => (incomplete = err) });
  const ledger = await readJson<Ledger>(ledgerFile, {});
  const staging = path.join(job.localRoot, LOCAL_PRODUCT_DIR, "ingest");

  if (!opts.dryRun) {
    // A killed run's staged files that were already linked into place: delivered, only the ledger lacks them.
    let healed = false;
    for (const rel of await walkFiles(staging).catch(() => [] as string[])) {
      const st = await stat(path.join(staging, rel));
      const info = remote.get(keyOf(rel));
      if (st.nlink > 1 && whole(info, st)) {
        ledger[info.path] = { size: info.size, modTime: info.modTime };
        healed = true;
      }
    }
    if (healed) await writeJson(ledgerFile, ledger);
  }
  const fresh = [...remote.values()].filter((f) => {
    const seen = ledger[f.path];
    return !seen || seen.size !== f.size || seen.modTime !== f.modTime;
  });
  if (opts.dryRun || fresh.length === 0) {
    if (incomplete && !opts.dryRun) throw incomplete;
    return { arrived: fresh.map((f) => f.path).sort(), dryRun: !!opts.dryRun };
  }

  await rm(staging, { recursive: true, force: true }); // copies are repeatable: start clean
  await ownFolder(job.localRoot, [LOCAL_PRODUCT_DIR, "ingest"]);
  const listFile = path.join(pairStateDir(job), "ingest-files.txt");
  // rclone names carry no line breaks (a line break is shown as "␊"), so one --files-from-raw list holds them all.
  await writeFile(listFile, fresh.map((f) => f.path).join("\n") + "\n", { mode: 0o600 });
  const res = await runRclone(job.bin, {
    args: ["copy", source, staging, "--files-from-raw", listFile, "--no-traverse", ...listFlags],
    ...common,
    verbose: true,
    onStats: transferStats(job),
  });
  const error = res.code !== 0 ? new RcloneError("copy", res) : undefined;
  const arrived: string[] = [];
  const destRoot = path.join(job.localRoot, ingestPath);
  for (const rel of await walkFiles(staging)) {
    const key = keyOf(rel);
    const info = remote.get(key);
    // Only whole files are placed: after a failed run a size mismatch marks a partial copy.
    if (!whole(info, await stat(path.join(staging, rel)))) continue;
    const landed = await linkNoClobber(path.join(staging, rel), destRoot, rel);
    arrived.push(keyOf(path.relative(destRoot, landed)));
    ledger[key] = { size: info.size, modTime: info.modTime };
  }
  await writeJson(ledgerFile, ledger);
  await rm(staging, { recursive: true, force: true });
  if (error ?? incomplete) throw error ?? incomplete;
  return { arrived, dryRun: false };
}
