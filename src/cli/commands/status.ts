// `workspace-sync status`: the whole report first (it is how a person finds the problem), then the exit code a
// script or a monitoring job acts on: 2 for an invalid config, 1 when something needs attention, else 0.
import { ConfigInvalidError } from "../../app/context.js";
import { buildStatus, formatStatus } from "../../report/status.js";
import { OperationError } from "../../util/errors.js";
import type { Invocation } from "../invocation.js";

export class NeedsAttentionError extends OperationError {
  constructor(readonly items: string[]) {
    super(`${items.length} thing(s) need attention: ${items.join("; ")}`);
    this.name = "NeedsAttentionError";
  }
}

export async function run(inv: Invocation): Promise<void> {
  const ctx = await inv.context();
  const status = await buildStatus(ctx);
  inv.out.result(formatStatus(status), status);
  if (ctx.problems.length) throw new ConfigInvalidError(ctx.problems, ctx.configFile);
  if (status.needsAttention.length) throw new NeedsAttentionError(status.needsAttention);
}
