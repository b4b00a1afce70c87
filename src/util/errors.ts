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

export const isExpected = (err: unknown): err is ExpectedError => err instanceof ExpectedError;
