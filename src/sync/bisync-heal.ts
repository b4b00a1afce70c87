// Heals what a bisync killed mid-run leaves behind on rclone < 1.66 (no --recover, and no check whether files
// that changed on both sides are in fact equal). Healing happens only when the product's own marker says the
// previous run was interrupted, and only touches copies whose content survives on the other side:
// - a truncated copy under the real name (its whole content is a prefix of the other side's version): removed;
// - a copy that was transferred completely before the kill (same content on both sides, "changed" on both since
//   the last listing): its remote twin is removed.
// Left alone, the next run would see "changed on both sides" and rename both copies to ..path1/..path2. The healed
// paths are also dropped from the prior listings, so bisync sees a file that exists on one side only and copies
// it across (a deletion against the listing would count towards bisync's --max-delete).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { writeFileAtomic } from "../util/atomic-file.js";
import { runRclone, RcloneError } from "../rclone/runner.js";
import { rcloneCallOptions, type SyncJob } from "./job.js";
import { type ListedFile, listFiles } from "../rclone/listing.js";

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

async function listingFile(dir: string, side: "path1" | "path2"): Promise<string | undefined> {
  const name = (await readdir(dir)).find((n) => n.endsWith(`.${side}.lst`));
  return name ? path.join(dir, name) : undefined;
}

export async function priorListing(dir: string, side: "path1" | "path2"): Promise<Map<string, PriorEntry> | undefined> {
  const file = await listingFile(dir, side);
  return file ? parseBisyncListing(await readFile(file, "utf8")) : undefined;
}

/** Drops entries from a prior listing (never all of them: rclone refuses an empty prior listing). */
async function forgetInListing(dir: string, side: "path1" | "path2", names: Set<string>): Promise<void> {
  const file = await listingFile(dir, side);
  if (!file) return;
  const lines = (await readFile(file, "utf8")).split("\n");
  const entry = (line: string) => [...parseBisyncListing(line).keys()][0];
  const kept = lines.filter((line) => {
    const name = entry(line);
    return name === undefined || !names.has(name);
  });
  if (!kept.some((line) => entry(line) !== undefined)) return;
  await writeFileAtomic(file, kept.join("\n"), 0o600);
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
  const res = await runRclone(job.bin, { args, ...rcloneCallOptions(job), stdout: { pipe: sink } });
  if (res.code !== 0) throw new RcloneError("cat", res);
  return hash.digest("hex");
}

/** Which of `rels` hold the same bytes on both sides (rclone check --download: content compared on every backend). */
async function sameOnBoth(job: SyncJob, workdir: string, rels: string[]): Promise<string[]> {
  const listable = rels.filter((r) => !/[\r\n]/.test(r)); // --files-from-raw holds one name per line
  if (listable.length === 0) return [];
  const list = path.join(workdir, "heal-candidates.txt");
  const match = path.join(workdir, "heal-match.txt");
  await writeFile(list, `${listable.join("\n")}\n`, { mode: 0o600 });
  await rm(match, { force: true });
  // Differences make rclone check exit non-zero; the match file is what counts.
  await runRclone(job.bin, {
    // --files-from-raw takes no other filter: the candidates were listed with the pair's filters already.
    args: ["check", job.localRoot, job.remote.path(""), "--files-from-raw", list, "--download", "--match", match],
    ...rcloneCallOptions(job),
  });
  const text = await readFile(match, "utf8").catch(() => "");
  const wanted = new Set(listable);
  return text.split("\n").filter((line) => wanted.has(line));
}

/** Returns the paths healed (copies removed) on either side. */
export async function healInterruptedBisync(job: SyncJob, workdir: string, filterArgs: string[]): Promise<string[]> {
  const prior1 = await priorListing(workdir, "path1");
  const prior2 = await priorListing(workdir, "path2");
  if (!prior1 || !prior2) return [];
  const common = { ...rcloneCallOptions(job), filterArgs };
  const [local, remote] = await Promise.all([listFiles(job.bin, job.localRoot, common), listFiles(job.bin, job.remote.path(""), common)]);
  const healed: string[] = [];
  const equalSize: string[] = [];
  const deleteRemote = async (rel: string) => {
    const res = await runRclone(job.bin, { args: ["deletefile", job.remote.path(rel)], ...rcloneCallOptions(job) });
    if (res.code !== 0) throw new RcloneError("deletefile", res);
  };
  for (const [rel, l] of local) {
    const r = remote.get(rel);
    if (!r) continue;
    // Both sides changed (or appeared) since the last good run: the signature of a copy the kill interrupted.
    if (!changed(l, prior1.get(rel)) || !changed(r, prior2.get(rel))) continue;
    if (r.size === l.size) {
      equalSize.push(rel);
      continue;
    }
    const localShorter = l.size < r.size;
    const shortSize = Math.min(l.size, r.size);
    const localPath = path.join(job.localRoot, rel);
    const remotePath = job.remote.path(rel);
    const shortHash = localShorter ? await hashLocal(localPath) : await hashRemote(job, remotePath);
    const prefixHash = localShorter ? await hashRemote(job, remotePath, shortSize) : await hashLocal(localPath, shortSize);
    if (shortHash !== prefixHash) continue; // a real conflict: bisync keeps both versions
    if (localShorter) await rm(localPath);
    else await deleteRemote(rel);
    job.log.warn(`healed an interrupted bisync: removed the truncated ${localShorter ? "workspace" : "remote"} copy of ${JSON.stringify(rel)}; the whole file is copied again`);
    healed.push(rel);
  }
  const same = await sameOnBoth(job, workdir, equalSize);
  for (const rel of same) await deleteRemote(rel);
  if (same.length) job.log.warn(`healed an interrupted bisync: ${same.length} file(s) were already copied whole before it stopped; they are not conflicts`);
  healed.push(...same);
  if (healed.length) {
    const names = new Set(healed);
    await forgetInListing(workdir, "path1", names);
    await forgetInListing(workdir, "path2", names);
  }
  return healed;
}
