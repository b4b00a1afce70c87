// Maps errors to the documented exit codes: 0 ok, 1 operation failed, 2 bad usage/config, 3 busy. Expected errors
// carry their code (util/errors.ts); commander's parse errors are usage errors; anything else is a failure.
import { isExpected } from "../util/errors.js";

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3 } as const;

export function exitCodeFor(err: unknown): number {
  if (isExpected(err)) return err.exitCode;
  if ((err as { code?: string }).code?.startsWith?.("commander.")) return EXIT.usage;
  return EXIT.failed;
}
