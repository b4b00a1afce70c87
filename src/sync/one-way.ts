// One-way "make destination equal to source" with the guards: deletion guard, trash safety net, excludes.
// Used by mailbox and mirror pushes and by `sync --direction push|pull`.
import { runRclone, RcloneError } from "../rclone/runner.js";
import { DeletionGuardError, describeStoppedDeletions, guardStops, type RunHint } from "./guard.js";
import type { SyncJob } from "./job.js";
import { rcloneCallOptions, transferFlags, transferStats } from "./job.js";
import { listFiles } from "../rclone/listing.js";
import { trashStamp } from "./trash.js";

export interface OneWayOptions {
  source: string;
  destination: string;
  /** Which side the destination is, for messages ("remote" / "workspace"). */
  destinationSide: string;
  filterArgs: string[];
  /** Trash root on the destination side (rclone path), or undefined when the safety net is off. */
  trashRoot?: string;
  dryRun?: boolean;
  /** How the user runs this again, for the deletion guard's advice. */
  hint: RunHint;
  /** Called once the guard let the run through, right before rclone changes anything. */
  beforeTransfer?: () => Promise<void>;
}

export interface OneWayResult {
  copied: string[];
  deleted: string[];
  bytes: number;
  dryRun: boolean;
  /** Dry run only: the deletion guard would stop the real run; what it would delete, for the preview. */
  guardPreview?: string[];
  /** The trash folder (rclone path and its dated name) this run moved deleted and replaced files into. */
  trash?: { folder: string; stamp: string };
  /** Files the destination had and the source did not (deleted, or moved to the trash; planned in a dry run). */
  removed: string[];
}

export async function oneWaySync(job: SyncJob, opts: OneWayOptions): Promise<OneWayResult> {
  const common = { ...rcloneCallOptions(job), filterArgs: opts.filterArgs };
  const flags = transferFlags(job);
  const listFlags = flags.filter((f) => f === "--fast-list" || f.startsWith("--skip-links") || f === "--copy-links");
  const [src, dst] = await Promise.all([
    listFiles(job.bin, opts.source, { ...common, extraArgs: listFlags }),
    listFiles(job.bin, opts.destination, { ...common, extraArgs: listFlags }),
  ]);
  const deletes = [...dst.keys()].filter((p) => !src.has(p));
  const plan = { destinationFiles: dst.size, deletes, sizes: new Map(deletes.map((p) => [p, dst.get(p)!.size])) };
  const result: OneWayResult = { copied: [], deleted: [], bytes: 0, dryRun: !!opts.dryRun, removed: [...deletes].sort() };
  if (guardStops(plan, job.config.maxDelete, job.maxDeleteOverride)) {
    if (!opts.dryRun) throw new DeletionGuardError(plan, job.config.maxDelete, opts.destinationSide, opts.hint, job.maxDeleteOverride);
    // A dry run shows what the real run would delete instead of stopping, so the user can decide.
    result.guardPreview = describeStoppedDeletions(plan, job.config.maxDelete, opts.destinationSide, opts.hint, job.maxDeleteOverride);
  }

  if (!opts.dryRun) await opts.beforeTransfer?.();
  const args = ["sync", opts.source, opts.destination, ...flags, ...opts.filterArgs];
  if (opts.trashRoot) {
    const stamp = trashStamp();
    result.trash = { folder: `${opts.trashRoot}/${stamp}`, stamp };
    args.push("--backup-dir", result.trash.folder);
  }
  // Without a trash, rclone itself refuses more deletions than planned (second line of defence). With
  // the trash, nothing is destroyed, and rclone counts every move into the trash as deletes (S3: copy +
  // delete of source and of the replaced object), which makes its counter useless as a cap.
  if (!opts.trashRoot) args.push("--max-delete", String(deletes.length));
  if (opts.dryRun) args.push("--dry-run");
  const res = await runRclone(job.bin, {
    args,
    ...rcloneCallOptions(job),
    verbose: true,
    onStats: transferStats(job),
    onLog: (entry) => {
      const obj = entry.object;
      if (!obj) return;
      if (/^Copied|^Updated|^Skipped copy/.test(entry.msg)) result.copied.push(obj);
      else if (/^Deleted|^Skipped delete|^Moved into backup dir|^Skipped move into backup dir/.test(entry.msg)) result.deleted.push(obj);
    },
  });
  if (res.code !== 0) throw new RcloneError("sync", res);
  result.bytes = res.stats?.bytes ?? 0;
  return result;
}
