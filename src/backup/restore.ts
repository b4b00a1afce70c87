// `backup restore`: streams a snapshot into a fresh staging folder (default: under the state dir, never the live
// workspace), refusing entries that would escape it, and makes the result visible only once the whole snapshot was
// read and matched its manifest. Reports where it is and how it differs from the live locations.
import path from "node:path";
import picomatch from "picomatch";
import type { AppContext } from "../app/context.js";
import { productDir } from "../state/paths.js";
import { OperationError, UsageError } from "../util/errors.js";
import { extractTar, type ExtractResult } from "./formats/archive/tar-extract.js";
import { unlockFor } from "./keys.js";
import { stampOf } from "./formats/archive/naming.js";
import type { ProgressSink } from "./progress.js";
import { readSnapshot } from "./formats/archive/read-snapshot.js";
import { diffWithLive, type DiffSummary } from "./restore-diff.js";
import { clockFor } from "./clock.js";
import { commitTarget, discardTarget, type PreparedTarget, prepareTarget } from "./restore-target.js";
import { isLegacy, listRepository, type SnapshotEntry } from "./formats/archive/listing.js";
import { openRepository } from "./setup.js";
import { pickSnapshots } from "./verify.js";

export interface RestoreOptions {
  snapshot?: string;
  to?: string;
  paths?: string[];
  dryRun?: boolean;
  force?: boolean;
  identity?: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  now?: () => Date;
}

export interface RestoreReport {
  snapshot: string;
  legacy: boolean;
  target?: string;
  dryRun: boolean;
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** Entries a dry run would restore (bounded). */
  entries?: string[];
  refused: { path: string; reason: string }[];
  diff?: DiffSummary;
}

const MAX_LISTED = 1000;

/** A --path glob selects an entry when it matches the entry or one of its parent folders. */
export function pathFilter(globs: readonly string[] | undefined): (p: string) => boolean {
  if (!globs?.length) return () => true;
  const match = picomatch(globs.map((g) => g.replace(/^\/+|\/+$/g, "")), { dot: true });
  return (p) => {
    const parts = p.split("/");
    for (let i = parts.length; i > 0; i--) if (match(parts.slice(0, i).join("/"))) return true;
    return false;
  };
}

export function defaultRestoreDir(stateDir: string, snapshot: string, now: Date): string {
  const base = snapshot.replace(/\.tar.*$/, "");
  return path.join(productDir(stateDir), "restore", `${base}-restored-${stampOf(now)}`);
}

export async function restoreSnapshot(ctx: AppContext, opts: RestoreOptions): Promise<RestoreReport> {
  const setup = await openRepository(ctx, opts.signal);
  const listing = await listRepository(setup.access);
  const [entry] = pickSnapshots(listing, opts.snapshot, false);
  const unlock = await unlockFor(setup.backup, opts.identity);
  const filter = pathFilter(opts.paths);
  const legacy = isLegacy(entry!);
  const report: RestoreReport = { snapshot: entry!.name, legacy, dryRun: !!opts.dryRun, files: 0, dirs: 0, symlinks: 0, bytes: 0, refused: [] };
  const readOpts = { phase: "restore" as const, signal: opts.signal, onProgress: opts.onProgress };

  if (opts.dryRun) {
    const entries: string[] = [];
    const onEntry = (p: string) => void (entries.length < MAX_LISTED && entries.push(p));
    const { result } = await readSnapshot(setup, entry!, unlock, (s) => extractTar(s, { target: "/nonexistent-dry-run", dryRun: true, filter, onEntry }), readOpts);
    return { ...report, ...counts(result), entries, refused: result.refused };
  }

  const target = path.resolve(opts.to ?? defaultRestoreDir(ctx.stateDir, entry!.name, (opts.now ?? clockFor(ctx.env))()));
  const needs = legacy ? entry!.size : (entry as SnapshotEntry).manifest.bytes;
  let result: ExtractResult;
  let prepared: PreparedTarget | undefined;
  try {
    prepared = await prepareTarget(target, !!opts.force);
    const staging = prepared.staging;
    ({ result } = await readSnapshot(setup, entry!, unlock, (s) => extractTar(s, { target: staging, filter }), readOpts));
  } catch (err) {
    if (prepared) await discardTarget(prepared);
    if (err instanceof UsageError) throw err;
    if (isDiskFull(err)) {
      throw new OperationError(
        `restore target ${target} ran out of space (disk full: ${diskFullCode(err)}); the snapshot ${entry!.name} is fine and unchanged, ` +
          `it needs about ${(needs / 2 ** 20).toFixed(1)} MiB unpacked: free space there or restore elsewhere with --to DIR; nothing was restored`,
        { cause: err },
      );
    }
    throw new OperationError(`${(err as Error).message}; nothing was restored`, { cause: err });
  }
  try {
    await commitTarget(prepared);
  } catch (err) {
    // A merge cut short keeps its marker (the target is not complete); a new target stays absent.
    if (prepared.mode === "rename") await discardTarget(prepared);
    throw new OperationError(`the snapshot was read and checked, but moving it into ${target} failed: ${(err as Error).message}`, { cause: err });
  }
  report.target = target;
  Object.assign(report, counts(result), { refused: result.refused });
  if (!legacy && "manifest" in entry!) report.diff = await diffWithLive(entry.manifest, target, setup.backup.exclude, filter);
  return report;
}

const DISK_FULL = new Set(["ENOSPC", "EDQUOT"]);

/** The local disk (or quota) is full somewhere in the error's cause chain. */
function diskFullCode(err: unknown): string | undefined {
  for (let e = err as (Error & { code?: string; cause?: unknown }) | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (e.code && DISK_FULL.has(e.code)) return e.code;
  }
  return undefined;
}

const isDiskFull = (err: unknown) => diskFullCode(err) !== undefined;

function counts(r: ExtractResult): Pick<RestoreReport, "files" | "dirs" | "symlinks" | "bytes"> {
  return { files: r.files, dirs: r.dirs, symlinks: r.symlinks, bytes: r.bytes };
}
