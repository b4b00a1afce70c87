// What a backup format hands the restore writer: a stream of entries in snapshot order, whatever the storage
// format (a tar stream of the archive format, the trees and packs of a restic repository). Everything in an entry
// is untrusted input: the writer checks every path before it touches the disk.

/** A point in time with nanosecond precision (tar pax and restic trees carry more than milliseconds). */
export interface Time {
  /** Whole seconds since the epoch (negative before 1970). */
  sec: number;
  /** 0 ≤ nsec < 1e9. */
  nsec: number;
}

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "other";

export interface RestoreEntry {
  /** POSIX path relative to the snapshot root, exactly as stored: unchecked (may be absolute, hold "..", NUL…). */
  path: string;
  type: EntryType;
  /** Permission bits (and setuid/setgid/sticky, dropped unless asked for). */
  mode: number;
  mtime?: Time;
  /** Defaults to mtime. */
  atime?: Time;
  uid?: number;
  gid?: number;
  /** Content bytes of a file (0 for anything else). */
  size: number;
  /** A symlink's target (written as is), or a hard link's target: another path of the same snapshot. */
  linkTarget?: string;
  /** For type "other": what it is (e.g. "character device"), for the refusal message. */
  kind?: string;
  /**
   * The source already knows the entry cannot be restored (a name its format flags as hostile, a rule of the caller):
   * the writer refuses it with this reason, in snapshot order with its own refusals, and writes nothing for it.
   */
  refused?: string;
  /**
   * A file's content, exactly `size` bytes in order. The writer owns each chunk it is given (the source must not
   * reuse the memory); a chunk the source marked with handOver (util/release-buffer.ts) is freed as soon as it is
   * written. Leaving it unread skips it.
   */
  content?: AsyncIterable<Buffer>;
}

export interface RestoreSource {
  entries: AsyncIterable<RestoreEntry>;
  /**
   * true (a tar stream): an entry's content must be read, or left, before the next entry is pulled; the source skips
   * what was left. false (random access, e.g. blobs fetched from packs): entries may be pulled ahead and their
   * contents read at the same time.
   */
  sequential: boolean;
}

/** An entry the writer did not restore, and why (the caller turns a non-empty list into a non-zero exit). */
export interface Refusal {
  path: string;
  reason: string;
}

/** Seconds as a double, as fs.utimes takes them (sub-microsecond digits are lost to the double's precision). */
export const toSeconds = (t: Time): number => t.sec + t.nsec / 1e9;

/**
 * Parses a decimal seconds value ("1714979289.123456789", "-1.5") without losing nanoseconds to a double;
 * undefined when it is not a number.
 */
export function parseDecimalTime(text: string): Time | undefined {
  const m = /^\s*(-?)(\d+)(?:\.(\d*))?\s*$/.exec(text);
  if (!m) return undefined;
  const whole = Number(m[2]);
  const nsec = Number(((m[3] ?? "") + "000000000").slice(0, 9));
  if (!Number.isSafeInteger(whole)) return undefined;
  if (m[1] !== "-") return { sec: whole, nsec };
  // -1.25 s = -2 s + 0.75 s
  return nsec === 0 ? { sec: -whole, nsec: 0 } : { sec: -whole - 1, nsec: 1e9 - nsec };
}
