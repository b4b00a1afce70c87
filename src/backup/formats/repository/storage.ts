// The one interface every repository transport implements (restic internal/backend/backend.go, reduced to what a
// repository needs): whole files by type and name, ranged reads, listings with sizes. Implementations: the rclone
// `serve restic --stdio` session (backend.ts) and a plain local folder (backend-dir.ts).
import { NotFoundError } from "./errors.js";

export type FileType = "config" | "keys" | "locks" | "snapshots" | "index" | "data";
export type ListableType = Exclude<FileType, "config">;
export const LISTABLE_TYPES: readonly ListableType[] = ["data", "keys", "locks", "snapshots", "index"];

export interface FileInfo {
  name: string;
  size: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface LoadOptions extends CallOptions {
  /**
   * A ranged read taken piece by piece instead of into one buffer, so that a read of a whole pack does not hold the
   * whole pack: `lengths` split the range in order (they add up to its length). Each piece is handed to `onPiece` as
   * soon as its last byte is in, in a buffer of its own, or undefined where `skip` says nobody needs its bytes (they
   * are never kept). load() then resolves with an empty buffer; the pieces handed out tell how much came (a short
   * answer stops early). A retry starts again at piece 0 (the reader ignores pieces it has). Transports that cannot
   * never call it and resolve with the range as always.
   */
  pieces?: ReadPieces;
}

export interface ReadPieces {
  lengths: readonly number[];
  skip?: readonly boolean[];
  onPiece: (index: number, piece: Buffer | undefined) => void;
}

/** How a transport wants a restore's pack reads shaped (restic's restorer reads a pack's blobs with one request). */
export interface ReadShape {
  /** Stored bytes read ahead of the consumer. */
  aheadBytes: number;
  /** Reads in flight. */
  reads: number;
  /** Largest read that brings several blobs. */
  maxReadBytes: number;
  /**
   * Decode each read's blobs on a worker as it arrives (the window then holds plaintext; best where the main thread
   * is busy writing files and reads are cheap), or on the taking thread when taken (the window holds the smaller
   * stored form: a large window for few large requests).
   */
  decodeOnWorker: boolean;
}

export interface Storage {
  /** Where the repository is, without secrets (for messages). */
  readonly location: string;
  /** The transport's preferred shape of pack reads; absent: the reader's own (tuned for a local folder). */
  readonly readShape?: ReadShape;
  /** Lays out the folders (config, data, index, keys, locks, snapshots); harmless on an existing repository. */
  create(opts?: CallOptions): Promise<void>;
  list(type: ListableType, opts?: CallOptions): Promise<FileInfo[]>;
  /** Size of the file, or undefined when it does not exist. */
  stat(type: FileType, name: string, opts?: CallOptions): Promise<number | undefined>;
  /** The whole file, or `range` of it, in a new buffer the caller owns; NotFoundError when it does not exist. */
  load(type: FileType, name: string, range?: ByteRange, opts?: LoadOptions): Promise<Buffer>;
  /** Stores a complete file under its final name (never a partial file under that name). */
  save(type: FileType, name: string, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void>;
  /** Deletes a file; deleting a missing file is not an error. */
  remove(type: FileType, name: string, opts?: CallOptions): Promise<void>;
  /**
   * A file written piece by piece while it fills, under a temporary name until commit() (transports that can: a local
   * folder). Undefined when the transport cannot: the caller then keeps the bytes and save()s them whole.
   */
  stage?(type: FileType): StagedFile | undefined;
  /** Removes uploads staged but never moved into place (transports that stage; call only under an exclusive lock). */
  removeStaged?(opts?: CallOptions): Promise<void>;
  /**
   * Starts the transport now, before the first request (transports with a start-up: an rclone child reaching the
   * remote). A failure is not reported here: the first request meets it.
   */
  warm?(): void;
  close(): Promise<void>;
}

/**
 * A file being written (a pack while it fills): bytes are queued and written in order without blocking the caller; a
 * write failure is reported by the next wait() or commit(). Never visible under a final name before commit().
 */
export interface StagedFile {
  /** Queues bytes at the end of the file. They are handed over: once written, their memory is freed (release-buffer.ts). */
  append(data: Uint8Array): void;
  /** Bytes queued and not yet written. */
  readonly pending: number;
  /** Resolves once at most `maxPending` bytes are still queued; rejects with a write failure. */
  wait(maxPending: number): Promise<void>;
  /** Writes what is queued, flushes it to stable storage and moves the file under its final name. */
  commit(type: FileType, name: string, opts?: CallOptions): Promise<void>;
  /** Removes the file (a failed or stopped run); harmless after commit() or a second time. */
  discard(): Promise<void>;
}

/** The file's path inside the repository as restic lays it out: packs under a two-character prefix folder. */
export function repoPath(type: FileType, name: string): string {
  if (type === "config") return "config";
  if (type === "data") return `data/${name.slice(0, 2)}/${name}`;
  return `${type}/${name}`;
}

export function notFound(type: FileType, name: string, location: string): NotFoundError {
  return new NotFoundError(`${repoPath(type, name)} does not exist in the repository at ${location}`);
}
