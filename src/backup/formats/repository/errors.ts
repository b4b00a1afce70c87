// The expected failures of a restic-format repository, each with the CLI exit code it maps to (util/errors.ts).
// Messages name the file and the way out; they never carry a password, a key or file contents.
import { BusyFailure, OperationError, UsageError } from "../../../util/errors.js";

/** No key file of the repository opens with the given password. */
export class WrongPasswordError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "WrongPasswordError";
  }
}

/** The location holds no restic repository (no config file) or something else entirely. */
export class NotARepositoryError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "NotARepositoryError";
  }
}

/** The repository was written by a newer restic format than this code reads. */
export class UnsupportedFormatError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedFormatError";
  }
}

/** A stored file does not match its name, its MAC or its index entry: damaged or tampered. */
export class IntegrityError extends OperationError {
  constructor(
    message: string,
    /** Repository path of the file, e.g. "data/3f/3f0a…" or "index/ab12…". */
    readonly file: string,
  ) {
    super(message);
    this.name = "IntegrityError";
  }
}

/** Another process holds a conflicting lock (exit 3, like every "busy" in the product). */
export class RepositoryLockedError extends BusyFailure {
  constructor(message: string) {
    super(message);
    this.name = "RepositoryLockedError";
  }
}

/** The storage did not do what was asked (HTTP error from rclone, lost session, timeout). */
export class BackendError extends OperationError {
  constructor(
    message: string,
    /** Worth retrying: a dropped session, a time-out, a 5xx from rclone. */
    readonly transient: boolean,
    /** HTTP status from rclone, when there was one. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BackendError";
  }
}

/** The file asked for does not exist (HTTP 404). */
export class NotFoundError extends BackendError {
  constructor(message: string) {
    super(message, false, 404);
    this.name = "NotFoundError";
  }
}
