// Deletion guard: a run that would delete more than maxDelete% of the destination's files stops first. A dry run
// shows what would be deleted instead of stopping, and `sync --max-delete N|N%` lets one run through.
import { OperationError, UsageError } from "../util/errors.js";

/** `--max-delete` of one run: a number of files, or a share of the destination's files. */
export type DeleteLimit = { count: number } | { percent: number };

export interface DeletePlan {
  destinationFiles: number;
  deletes: string[];
  /** Size of each file to delete, when known (for the preview). */
  sizes?: ReadonlyMap<string, number>;
}

/** How the user runs this kind of cycle again, for the advice ("workspace-sync sync --direction pull --yes"). */
export interface RunHint {
  command: string;
  /** bisync counts deletions as a share of each side (rclone's own check): only a percentage fits. */
  percentOnly?: boolean;
}

export function parseMaxDelete(text: string): DeleteLimit {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !Number.isFinite(n) || (m[2] === "" && !Number.isInteger(n)) || (m[2] === "%" && n > 100)) {
    throw new UsageError(`--max-delete must be a number of files (like 40) or a percentage of the destination's files (like 80%), not "${text}"`);
  }
  return m[2] === "%" ? { percent: n } : { count: n };
}

export function describeLimit(limit: DeleteLimit): string {
  return "count" in limit ? `${limit.count} file(s)` : `${limit.percent}%`;
}

/** How many of `destinationFiles` one run may delete. */
export function allowedDeletes(destinationFiles: number, maxDelete: number, override?: DeleteLimit): number {
  if (override) return "count" in override ? override.count : Math.floor((destinationFiles * override.percent) / 100);
  if (maxDelete >= 100) return Number.POSITIVE_INFINITY;
  return Math.floor((destinationFiles * maxDelete) / 100);
}

export function guardStops(plan: DeletePlan, maxDelete: number, override?: DeleteLimit): boolean {
  return plan.deletes.length > 0 && plan.deletes.length > allowedDeletes(plan.destinationFiles, maxDelete, override);
}

/** The smallest --max-delete that lets this plan through, in the form the mode takes. */
export function neededLimit(plan: DeletePlan, hint: RunHint): string {
  if (!hint.percentOnly) return String(plan.deletes.length);
  const pct = plan.destinationFiles ? Math.ceil((plan.deletes.length / plan.destinationFiles) * 100) : 100;
  return `${Math.min(100, pct)}%`;
}

export class DeletionGuardError extends OperationError {
  constructor(
    readonly plan: DeletePlan,
    readonly maxDelete: number,
    side: string,
    hint: RunHint = { command: "workspace-sync sync" },
    override?: DeleteLimit,
  ) {
    const pct = plan.destinationFiles ? Math.round((plan.deletes.length / plan.destinationFiles) * 100) : 0;
    const limit = override ? `the --max-delete of this run (${describeLimit(override)})` : `maxDelete (${maxDelete}%)`;
    super(
      `stopped before deleting anything: this run would delete ${plan.deletes.length} of ${plan.destinationFiles} files (${pct}%) on the ${side}, ` +
        `more than ${limit}. \`${hint.command} --dry-run\` lists them. If the source really lost these files (e.g. an emptied workspace after a redeploy), ` +
        `restore them first; if the deletions are intended, let this one run through with \`${hint.command} --max-delete ${neededLimit(plan, hint)}\``,
    );
    this.name = "DeletionGuardError";
  }
}

export function checkDeletions(plan: DeletePlan, maxDelete: number, side: string, opts: { override?: DeleteLimit; hint?: RunHint } = {}): void {
  if (guardStops(plan, maxDelete, opts.override)) throw new DeletionGuardError(plan, maxDelete, side, opts.hint, opts.override);
}

export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** What a dry run shows when the guard would stop the real run: every deletion, sorted, with sizes and the totals. */
export function describeStoppedDeletions(plan: DeletePlan, maxDelete: number, side: string, hint: RunHint, override?: DeleteLimit): string[] {
  const paths = [...plan.deletes].sort();
  const size = (p: string) => plan.sizes?.get(p);
  const total = paths.reduce((n, p) => n + (size(p) ?? 0), 0);
  const width = Math.max(...paths.map((p) => formatSize(size(p) ?? 0).length), 1);
  const limit = override ? `the --max-delete of this run (${describeLimit(override)})` : `maxDelete (${maxDelete}%)`;
  return [
    `a real run would stop before deleting anything: ${paths.length} of ${plan.destinationFiles} files on the ${side} would be deleted, more than ${limit}:`,
    ...paths.map((p) => `  ${(size(p) === undefined ? "?" : formatSize(size(p)!)).padStart(width)}  ${p}`),
    `  total: ${paths.length} file(s), ${formatSize(total)}`,
    `if these deletions are intended: ${hint.command} --max-delete ${neededLimit(plan, hint)}`,
  ];
}
