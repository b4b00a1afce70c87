// Deletion guard: a run that would delete more than maxDelete% of the destination's files stops first.
import { OperationError } from "../util/errors.js";

export interface DeletePlan {
  destinationFiles: number;
  deletes: string[];
}

export class DeletionGuardError extends OperationError {
  constructor(
    readonly plan: DeletePlan,
    readonly maxDelete: number,
    side: string,
  ) {
    const pct = plan.destinationFiles ? Math.round((plan.deletes.length / plan.destinationFiles) * 100) : 0;
    super(
      `stopped before deleting anything: this run would delete ${plan.deletes.length} of ${plan.destinationFiles} files (${pct}%) on the ${side}, ` +
        `more than maxDelete (${maxDelete}%). If the source really lost these files (e.g. an emptied workspace after a redeploy), restore them first; ` +
        `if the deletions are intended, raise sync.maxDelete for one run or run \`workspace-sync sync --dry-run\` to review.`,
    );
    this.name = "DeletionGuardError";
  }
}

export function checkDeletions(plan: DeletePlan, maxDelete: number, side: string): void {
  if (plan.deletes.length === 0) return;
  if (maxDelete >= 100) return;
  const limit = Math.floor((plan.destinationFiles * maxDelete) / 100);
  if (plan.deletes.length > limit) throw new DeletionGuardError(plan, maxDelete, side);
}
