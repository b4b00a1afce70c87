// One small file written whole with synchronous system calls: create (O_EXCL, O_NOFOLLOW), write, mode when the
// creation could not give it, times on the descriptor, close. Shared by the restore writer's thread and the file
// writer threads (file-writers.ts), so both follow the same rules.
import { closeSync, constants, fchmodSync, futimesSync, openSync, unlinkSync, writeSync } from "node:fs";

export const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface SmallFile {
  /** Absolute path, checked by the writer (nothing of it leads outside the target or through a link). */
  dest: string;
  mode: number;
  /** The umask leaves `mode` whole: give it at creation, no fchmod (see createsWhole). */
  atCreate: boolean;
  /** Seconds as fs.futimes takes them; no times when mtime is absent. */
  atime?: number;
  mtime?: number;
}

/**
 * Writes `data` into a new file at `file.dest`. A failure leaves no file behind and throws the system call's error
 * (code and syscall set: the writer tells an entry's problem from the disk's).
 */
export function writeSmallFile(file: SmallFile, data: Uint8Array): void {
  const fd = openSync(file.dest, CREATE, file.atCreate ? file.mode : 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    // After the write: a write clears set-ID bits, and the umask would have cut the mode at creation.
    if (!file.atCreate) fchmodSync(fd, file.mode);
    if (file.mtime !== undefined) futimesSync(fd, file.atime ?? file.mtime, file.mtime);
  } catch (err) {
    closeSync(fd);
    removeIfThere(file.dest);
    throw err;
  }
  closeSync(fd);
}

/** unlink that accepts "already gone" (an earlier entry of the same path that was refused). */
export function removeIfThere(p: string): void {
  try {
    unlinkSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
