// Mailbox drain: every file of <remote>/_outbox moves into the workspace _inbox, sub-folders kept, never
// overwriting (a clash gets a unique name), exactly once, and a file leaves the cloud only after it landed whole.
//
// Steps, each safe to cut by kill -9 at any point:
//   1. finish what a killed run left: a staged file that is already linked into _inbox (link count > 1, or listed
//      in the placed-journal) was delivered, so only its remote source still has to go;
//   2. `rclone copy` the outbox into a private staging folder (copy, not move: the source stays until step 4;
//      leftovers of a killed copy are overwritten or skipped by rclone itself);
//   3. link each staged file whose size and time match its source into _inbox (placeNoClobber rules), then
//      record the placed set (journal) — partial or unknown staged files are removed, never placed;
//   4. delete the placed files' sources on the remote, then the staged links.
import { mkdir, rm, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { RcloneError, runRclone } from "../rclone/runner.js";
import { readJson, writeJson } from "../state/state-store.js";
import type { SyncJob } from "./job.js";
import { listingFlags, pairStateDir, rcloneCallOptions, transferFlags, transferStats } from "./job.js";
import { type ListedFile, listFiles } from "../rclone/listing.js";
import { INBOX, LOCAL_PRODUCT_DIR, OUTBOX } from "./filters.js";
import { linkNoClobber, pruneEmptyDirs, walkFiles } from "./place.js";
import { ownFolder } from "./own-folder.js";
import { rcloneName } from "../rclone/names.js";

export interface DrainResult {
  arrived: string[];
  dryRun: boolean;
  /** Outbox files that could not be brought in this cycle (reported, left in the outbox). */
  skipped: string[];
}

export function stagingDir(job: SyncJob): string {
  return path.join(job.localRoot, LOCAL_PRODUCT_DIR, "incoming");
}

/** Staged paths (POSIX) that were linked into _inbox, with the size and mtime they had: written before sources go. */
type PlacedJournal = Record<string, { size: number; mtimeMs: number }>;

/** A staged file's key: the name rclone lists its source under. */
const keyOf = (rel: string) => rcloneName(rel.split(path.sep).join("/"));
/** Names of undecodable staged files go (they can never be matched to a source, nor placed). */
const dropRaw = (raw: Buffer) => rm(raw, { recursive: true, force: true });

/** Same file as the listed source: rclone gives a finished copy the source's size and modification time. */
function matches(src: ListedFile | undefined, st: { size: number; mtimeMs: number }): boolean {
  if (!src || src.size !== st.size) return false;
  // Backends keep times at different precision (sftp: 1 s): within a second is the same time.
  return Math.abs(Date.parse(src.modTime) - st.mtimeMs) < 1000;
}

export interface OutboxListing {
  files: Map<string, ListedFile>;
  /** Symlinks in the outbox: never followed (their targets lie outside the outbox), reported, left in place. */
  links: string[];
  /** Set when rclone could list only part of the outbox: the listed files are drained, the cycle then fails. */
  incomplete?: RcloneError;
}

/** The one listing of the outbox a cycle makes (started early so it overlaps the push's local scan). */
export async function listOutbox(job: SyncJob): Promise<OutboxListing> {
  let incomplete: RcloneError | undefined;
  const links: string[] = [];
  // No --skip-links here: rclone's notice is how a planted symlink gets reported.
  const files = await listFiles(job.bin, job.remote.path(OUTBOX), {
    ...rcloneCallOptions(job),
    extraArgs: listingFlags(job),
    partial: (err) => (incomplete = err),
    onNotice: (object, msg) => /symlink/i.test(msg) && links.push(object),
  });
  return { files, links, incomplete };
}

/** Deletes the given outbox files (rclone names) on the remote; all of them or, on failure, none are taken as gone. */
async function deleteSources(job: SyncJob, rels: string[]): Promise<{ gone: string[]; error?: RcloneError }> {
  if (rels.length === 0) return { gone: [] };
  const common = rcloneCallOptions(job);
  const outboxPath = job.remote.path(OUTBOX);
  // rclone names carry no line breaks (a line break is shown as "␊"), so one --files-from-raw list holds them all.
  const list = path.join(pairStateDir(job), "drain-delete.txt");
  await mkdir(path.dirname(list), { recursive: true, mode: 0o700 });
  await writeFile(list, `${rels.join("\n")}\n`, { mode: 0o600 });
  const res = await runRclone(job.bin, { args: ["delete", outboxPath, "--files-from-raw", list, "--no-traverse", ...listingFlags(job)], ...common });
  if (res.code !== 0) return { gone: [], error: new RcloneError("delete", res) };
  // Emptied sub-folders go too (the outbox itself stays for the user's desktop app).
  if (rels.some((r) => r.includes("/"))) await runRclone(job.bin, { args: ["rmdirs", outboxPath, "--leave-root"], ...common });
  return { gone: rels };
}

/** Sources of delivered files leave the cloud, then their staged links and journal entries. */
async function finishDelivered(job: SyncJob, placed: Map<string, string>, journal: PlacedJournal, journalFile: string): Promise<RcloneError | undefined> {
  if (Object.keys(journal).length) await writeJson(journalFile, journal);
  const { gone, error } = await deleteSources(job, [...placed.keys()]);
  for (const key of gone) {
    await rm(placed.get(key)!, { force: true });
    placed.delete(key);
    delete journal[key];
  }
  if (Object.keys(journal).length) await writeJson(journalFile, journal);
  else await rm(journalFile, { force: true });
  return error;
}

export async function drainOutbox(job: SyncJob, opts: { dryRun?: boolean; listing?: Promise<OutboxListing> } = {}): Promise<DrainResult> {
  const inbox = path.join(job.localRoot, INBOX);
  const journalFile = path.join(pairStateDir(job), "drain-placed.json");
  // One listing of the outbox per cycle; nothing else when it is empty and no killed run left work.
  const listing = await (opts.listing ?? listOutbox(job));
  const outbox = listing.files;
  if (opts.dryRun) return { arrived: [...outbox.keys()].sort(), dryRun: true, skipped: [] };
  if (outbox.size === 0 && listing.incomplete) throw listing.incomplete;

  const staging = await ownFolder(job.localRoot, [LOCAL_PRODUCT_DIR, "incoming"]);
  const journal = await readJson<PlacedJournal>(journalFile, {});
  const placed = new Map<string, string>(); // posix rel → staged path whose source is still to be deleted

  // 1. A killed run's leftovers: delivered ones (linked into _inbox, or journalled) only need their source gone —
  //    if it is still the same file (the user may have put a new version under the same name).
  for (const rel of await walkFiles(staging, { undecodable: dropRaw })) {
    const full = path.join(staging, rel);
    const st = await stat(full);
    const key = keyOf(rel);
    const j = journal[key];
    if (st.nlink > 1 || (j && j.size === st.size && j.mtimeMs === st.mtimeMs)) {
      if (matches(outbox.get(key), st)) {
        placed.set(key, full);
        journal[key] = { size: st.size, mtimeMs: st.mtimeMs };
      } else await unlink(full);
    } else if (!outbox.has(key)) {
      // Not delivered and nothing to compare with: possibly partial, so never presented as complete. (A source
      // is deleted only after delivery, so nothing is lost.)
      await unlink(full);
    }
  }
  const recovered = new Set(placed.keys());
  const recoveryError = await finishDelivered(job, placed, journal, journalFile);
  if (recoveryError) throw recoveryError;

  // 2. Copy what waits in the outbox (rclone skips leftovers that are already whole and overwrites partial ones).
  let copyError: RcloneError | undefined;
  if (outbox.size) {
    const res = await runRclone(job.bin, {
      // Never --copy-links here, whatever copySymlinks says: that option is about the workspace, and following a
      // link planted in the outbox would read (and then delete) files outside it.
      args: ["copy", job.remote.path(OUTBOX), staging, "--skip-links", ...transferFlags(job).filter((f) => !["--checksum", "--copy-links", "--skip-links"].includes(f))],
      ...rcloneCallOptions(job),
      verbose: true,
      onStats: transferStats(job),
    });
    if (res.code !== 0) copyError = new RcloneError("copy", res);
  }

  // 3. Deliver every whole file; drop the rest (partial copies must neither look complete nor fill the disk).
  const arrived: string[] = [];
  for (const rel of await walkFiles(staging, { undecodable: dropRaw })) {
    const key = keyOf(rel);
    const full = path.join(staging, rel);
    const st = await stat(full);
    if (!matches(outbox.get(key), st)) {
      await unlink(full); // partial, or new since the listing: the next cycle takes it
      continue;
    }
    const landed = await linkNoClobber(full, inbox, rel);
    arrived.push(keyOf(path.relative(inbox, landed))); // rclone's form: no raw control characters in reports
    placed.set(key, full);
    journal[key] = { size: st.size, mtimeMs: st.mtimeMs };
  }
  const skipped = [...outbox.keys()].filter((k) => !placed.has(k) && !recovered.has(k)).sort();

  // 4. Sources of delivered files leave the cloud.
  const deleteError = await finishDelivered(job, placed, journal, journalFile);
  await pruneEmptyDirs(staging);
  const shown = (names: string[]) => names.slice(0, 10).map((n) => JSON.stringify(n)).join(", ") + (names.length > 10 ? ", …" : "");
  if (listing.links.length) job.log.warn(`${listing.links.length} symlink(s) in the outbox are not followed and stay there: ${shown(listing.links)}`);
  if (skipped.length) job.log.warn(`${skipped.length} outbox file(s) could not be brought in and stay in the outbox: ${shown(skipped)}`);
  const failure = copyError ?? deleteError ?? listing.incomplete;
  if (failure) throw failure;
  return { arrived, dryRun: false, skipped };
}
