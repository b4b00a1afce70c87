// `backup verify`: streams a snapshot end to end — manifest hash, authentication, decompression, the archive read
// to its end — without writing a file, and reports what it holds.
import type { AppContext } from "../app/context.js";
import { OperationError, UsageError } from "../util/errors.js";
import { listTar } from "./formats/archive/tar-extract.js";
import { unlockFor } from "./keys.js";
import type { ProgressSink } from "./progress.js";
import { type AnySnapshot, readSnapshot } from "./formats/archive/read-snapshot.js";
import { findSnapshot, isLegacy, listRepository, type RepoListing } from "./formats/archive/listing.js";
import { openRepository } from "./setup.js";

export interface VerifyOptions {
  snapshot?: string;
  all?: boolean;
  identity?: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export interface VerifyResult {
  snapshot: string;
  legacy: boolean;
  ok: boolean;
  error?: string;
  files?: number;
  dirs?: number;
  symlinks?: number;
  bytes?: number;
  storedBytes?: number;
  sha256?: string;
}

export function pickSnapshots(listing: RepoListing, wanted: string | undefined, all: boolean): AnySnapshot[] {
  if (all) return [...listing.snapshots, ...listing.legacy];
  const found = findSnapshot(listing, wanted);
  if (found) return [found];
  const damaged = listing.damaged.find((d) => d.name === wanted);
  if (damaged) throw new OperationError(`snapshot ${damaged.name} is damaged: ${damaged.problem}`);
  if (!wanted || wanted === "latest") {
    if (listing.damaged.length) throw new OperationError(`the repository holds no intact snapshot; damaged: ${listing.damaged.map((d) => `${d.name} (${d.problem})`).join(", ")}`);
    throw new OperationError("the repository holds no snapshots yet (run `workspace-sync backup now`)");
  }
  throw new UsageError(`there is no snapshot named ${wanted} (\`workspace-sync backup list\` shows them)`);
}

export async function verifySnapshots(ctx: AppContext, opts: VerifyOptions): Promise<VerifyResult[]> {
  const setup = await openRepository(ctx, opts.signal);
  const listing = await listRepository(setup.access);
  const targets = pickSnapshots(listing, opts.snapshot, !!opts.all);
  const unlock = await unlockFor(setup.backup, opts.identity);
  const results: VerifyResult[] = [];
  for (const entry of targets) {
    const legacy = isLegacy(entry);
    try {
      const { result, stored } = await readSnapshot(setup, entry, unlock, listTar, { phase: "verify", signal: opts.signal, onProgress: opts.onProgress });
      if (!legacy && result.files !== entry.manifest.files) {
        throw new OperationError(`snapshot ${entry.name} holds ${result.files} files, its manifest says ${entry.manifest.files}`);
      }
      results.push({ snapshot: entry.name, legacy, ok: true, ...result, storedBytes: stored.size, sha256: stored.sha256 });
    } catch (err) {
      if (err instanceof UsageError && !opts.all) throw err;
      results.push({ snapshot: entry.name, legacy, ok: false, error: (err as Error).message });
    }
  }
  for (const d of opts.all ? listing.damaged : []) results.push({ snapshot: d.name, legacy: false, ok: false, error: `damaged: ${d.problem}` });
  return results;
}
