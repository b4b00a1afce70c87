// Expected errors carry the exit code the CLI returns for them: 1 operation failed, 2 bad usage/config, 3 busy.
// Anything that is not an ExpectedError is a bug (exit 1, and the only kind that may show a stack trace with -v).
// Code that wraps errors keeps an ExpectedError as it is (`isExpected`) instead of matching names or messages.
export type ExitCode = 1 | 2 | 3;

export abstract class ExpectedError extends Error {
  abstract readonly exitCode: ExitCode;
}

export class UsageError extends ExpectedError {
  readonly exitCode: ExitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * A command was called with flags or arguments that do not fit (exit 2). The CLI prints it with one hint line
 * pointing at the command's --help, the way it prints commander's own parse errors.
 */
export class FlagError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "FlagError";
  }
}

export class OperationError extends ExpectedError {
  readonly exitCode: ExitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OperationError";
  }
}

/** Another run holds the lock (exit 3). */
export class BusyFailure extends ExpectedError {
  readonly exitCode: ExitCode = 3;
}

/** A run stopped on purpose (Ctrl-C, the gateway stopping): not a failure of the operation itself. */
export class CancelledRunError extends OperationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CancelledRunError";
  }
}

/** The first error in `err`'s cause chain (itself included, at most 8 deep) that `match` accepts. */
export function findCause(err: unknown, match: (e: Error & { code?: string }) => boolean): (Error & { code?: string }) | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) if (match(e)) return e;
  return undefined;
}

export const isExpected = (err: unknown): err is ExpectedError => err instanceof ExpectedError;

/** Exit code of any error: its own when expected, else 1. */
export const exitCodeOf = (err: unknown): ExitCode => (isExpected(err) ? err.exitCode : 1);
