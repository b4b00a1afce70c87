// Heals what a bisync killed mid-copy leaves behind on rclone < 1.64 (no --recover): a truncated file under
// the real name on the destination side. Left alone, the next run sees "changed on both sides" and renames
// both copies to ..path1/..path2. Healing happens only when the product's own marker says the previous
// run was interrupted, and only deletes a copy whose whole content is a prefix of the other side's
// changed version — the content it holds survives in that version, so nothing can be lost.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { runRclone, RcloneError } from "../rclone/runner.js";
import type { SyncJob } from "./job.js";
import { type ListedFile, listFiles } from "./listing.js";

interface PriorEntry {
  size: number;
  time: string;
}

/** Parses an rclone bisync listing: `- <size> <hash> - <time> "<name>"`. */
export function parseBisyncListing(text: string): Map<string, PriorEntry> {
  const out = new Map<string, PriorEntry>();
  for (const line of text.split("\n")) {
    const m = /^-\s+(\d+)\s+\S+\s+\S+\s+(\S+)\s+"(.*)"$/.exec(line);
    if (m) out.set(JSON.parse(`"${m[3]!}"`) as string, { size: Number(m[1]), time: m[2]! });
  }
  return out;
}

async function priorListing(dir: string, side: "path1" | "path2"): Promise<Map<string, PriorEntry> | undefined> {
  const name = (await readdir(dir)).find((n) => n.endsWith(`.${side}.lst`));
  return name ? parseBisyncListing(await readFile(path.join(dir, name), "utf8")) : undefined;
}

function changed(now: ListedFile, prior: PriorEntry | undefined): boolean {
  return !prior || prior.size !== now.size || Date.parse(prior.time) !== Date.parse(now.modTime);
}

async function hashLocal(file: string, limit?: number): Promise<string> {
  const hash = createHash("sha256");
  if (limit === 0) return hash.digest("hex");
  const stream = createReadStream(file, limit === undefined ? {} : { start: 0, end: limit - 1 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function hashRemote(job: SyncJob, target: string, limit?: number): Promise<string> {
  const hash = createHash("sha256");
  if (limit === 0) return hash.digest("hex");
  const args = ["cat", target];
  if (limit !== undefined) args.push("--count", String(limit));
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb();
    },
  });
  const res = await runRclone(job.bin, { args, configPath: job.remote.configPath, env: job.env, stdout: { pipe: sink }, signal: job.signal });
  if (res.code !== 0) throw new RcloneError("cat", res);
  return hash.digest("hex");
}

/** Returns the paths healed (torn copies removed) on each side. */
export async function healInterruptedBisync(job: SyncJob, workdir: string, filterArgs: string[]): Promise<string[]> {
  const prior1 = await priorListing(workdir, "path1");
  const prior2 = await priorListing(workdir, "path2");
  if (!prior1 || !prior2) return [];
  const common = { configPath: job.remote.configPath, env: job.env, signal: job.signal, filterArgs };
  const [local, remote] = await Promise.all([listFiles(job.bin, job.localRoot, common), listFiles(job.bin, job.remote.path(""), common)]);
  const healed: string[] = [];
  for (const [rel, l] of local) {
    const r = remote.get(rel);
    if (!r || r.size === l.size) continue;
    // Both sides changed since the last good run: the signature of a copy that was cut off.
    if (!changed(l, prior1.get(rel)) || !changed(r, prior2.get(rel))) continue;
    const localShorter = l.size < r.size;
    const shortSize = Math.min(l.size, r.size);
    const localPath = path.join(job.localRoot, rel);
    const remotePath = job.remote.path(rel);
    const shortHash = localShorter ? await hashLocal(localPath) : await hashRemote(job, remotePath);
    const prefixHash = localShorter ? await hashRemote(job, remotePath, shortSize) : await hashLocal(localPath, shortSize);
    if (shortHash !== prefixHash) continue; // a real conflict: bisync keeps both versions
    if (localShorter) await rm(localPath);
    else {
      const res = await runRclone(job.bin, { args: ["deletefile", remotePath], configPath: job.remote.configPath, env: job.env });
      if (res.code !== 0) throw new RcloneError("deletefile", res);
    }
    job.log.warn(`healed an interrupted bisync: removed the truncated ${localShorter ? "workspace" : "remote"} copy of ${rel}; the whole file is copied again`);
    healed.push(rel);
  }
  return healed;
}
