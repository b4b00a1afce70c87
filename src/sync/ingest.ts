// Mirror-mode ingest: files the user drops in <remotePath>/<ingestPath>/ are copied (never moved or
// deleted) into the workspace <ingestPath>/. A ledger of what was taken in stops a file the agent
// consumed and removed from coming back, unless the remote copy changed.
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { RcloneError, runRclone } from "../rclone/runner.js";
import { readJson, writeJson } from "../state/state-store.js";
import type { SyncJob } from "./job.js";
import { listingFlags, pairStateDir } from "./job.js";
import { listFiles } from "./listing.js";
import { LOCAL_PRODUCT_DIR } from "./filters.js";
import { placeNoClobber, walkFiles } from "./place.js";

type Ledger = Record<string, { size: number; modTime: string }>;

export interface IngestResult {
  arrived: string[];
  dryRun: boolean;
}

export async function ingest(job: SyncJob, opts: { dryRun?: boolean } = {}): Promise<IngestResult> {
  const ingestPath = job.config.ingestPath;
  const source = job.remote.path(ingestPath);
  const ledgerFile = path.join(pairStateDir(job), "ingest-ledger.json");
  const common = { configPath: job.remote.configPath, env: job.env, signal: job.signal, timeoutMs: job.config.timeout * 1000 };
  const listFlags = listingFlags(job);
  const remote = await listFiles(job.bin, source, { ...common, extraArgs: listFlags });
  const ledger = await readJson<Ledger>(ledgerFile, {});
  const fresh = [...remote.values()].filter((f) => {
    const seen = ledger[f.path];
    return !seen || seen.size !== f.size || seen.modTime !== f.modTime;
  });
  if (opts.dryRun || fresh.length === 0) return { arrived: fresh.map((f) => f.path).sort(), dryRun: !!opts.dryRun };

  const staging = path.join(job.localRoot, LOCAL_PRODUCT_DIR, "ingest");
  await rm(staging, { recursive: true, force: true }); // copies are repeatable: start clean
  await mkdir(staging, { recursive: true });
  const listFile = path.join(pairStateDir(job), "ingest-files.txt");
  await mkdir(path.dirname(listFile), { recursive: true });
  await writeFile(listFile, fresh.map((f) => f.path).join("\n") + "\n", { mode: 0o600 });
  const res = await runRclone(job.bin, {
    args: ["copy", source, staging, "--files-from-raw", listFile, "--no-traverse", ...listFlags],
    ...common,
    verbose: true,
    onStats: job.onStats,
  });
  const arrived: string[] = [];
  const destRoot = path.join(job.localRoot, ingestPath);
  for (const rel of await walkFiles(staging)) {
    const key = rel.split(path.sep).join("/");
    const info = remote.get(key);
    // Only whole files are placed: after a failed run a size mismatch marks a partial copy.
    if (!info || (await stat(path.join(staging, rel))).size !== info.size) continue;
    const landed = await placeNoClobber(path.join(staging, rel), path.join(destRoot, rel));
    arrived.push(path.relative(destRoot, landed));
    ledger[key] = { size: info.size, modTime: info.modTime };
  }
  await rm(staging, { recursive: true, force: true });
  await writeJson(ledgerFile, ledger);
  if (res.code !== 0) throw new RcloneError("copy", res);
  return { arrived, dryRun: false };
}
