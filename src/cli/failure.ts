// How a failed command is shown, the same on both surfaces: an expected error is its message on one line (a flag
// problem adds one hint line pointing at the command's --help); anything else is a bug: one line that says so and
// how to see more, the stack trace only with -v. Never the whole help text, never a stack for an expected error.
import type { Command } from "commander";
import { exitCodeOf, FlagError, isExpected } from "../util/errors.js";

/** "workspace-sync sync" (or "openclaw workspace-sync sync") for hints. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

export function helpHint(cmd: Command): string {
  return `see '${commandPath(cmd)} --help'`;
}

export function describeFailure(err: unknown, o: { verbose?: boolean; cmd?: Command }): string {
  const message = err instanceof Error ? err.message : String(err);
  if (isExpected(err)) return err instanceof FlagError && o.cmd ? `${message}\n${helpHint(o.cmd)}` : message;
  if (o.verbose && err instanceof Error && err.stack) return err.stack;
  return `${message} (unexpected error: run with -v for details)`;
}

/** Prints the failure on stderr and returns the exit code for it. */
export function reportFailure(err: unknown, o: { verbose?: boolean; cmd?: Command; stream?: NodeJS.WritableStream }): number {
  (o.stream ?? process.stderr).write(`workspace-sync: ${describeFailure(err, o)}\n`);
  return exitCodeOf(err);
}
