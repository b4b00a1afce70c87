// rclone version detection and the minimum version of every flag the product uses.
import { UsageError } from "../util/errors.js";

export interface RcloneVersion {
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

export function parseRcloneVersion(output: string): RcloneVersion {
  const match = /rclone v?(\d+)\.(\d+)(?:\.(\d+))?([^\s]*)/.exec(output);
  if (!match) throw new Error(`cannot read rclone's version from: ${output.split("\n")[0] ?? ""}`);
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    raw: `${match[1]}.${match[2]}.${match[3] ?? 0}${match[4] ?? ""}`,
  };
}

export function atLeast(v: RcloneVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** Oldest rclone the product supports (Debian 12 / Ubuntu LTS ship 1.60). */
export const MIN_SUPPORTED: [number, number] = [1, 60];

/**
 * Flags that appeared after the oldest supported release. Any flag not listed here exists in 1.60.
 * Sources: rclone changelog / docs for each flag.
 */
export const FLAG_SINCE: Record<string, [number, number]> = {
  "--conflict-resolve": [1, 66],
  "--conflict-loser": [1, 66],
  "--conflict-suffix": [1, 66],
  "--max-lock": [1, 66],
  "--recover": [1, 66],
  "--resilient": [1, 64],
  "--backup-dir1": [1, 66],
  "--backup-dir2": [1, 66],
  "--compare": [1, 66],
  "--create-empty-src-dirs": [1, 64],
  "--ignore-listing-checksum": [1, 64],
  "--resync-mode": [1, 66],
  "--inplace": [1, 63],
};

export function flagSupported(v: RcloneVersion, flag: string): boolean {
  const since = FLAG_SINCE[flag];
  return !since || atLeast(v, since[0], since[1]);
}

export class UnsupportedFlagError extends UsageError {
  constructor(
    readonly flag: string,
    readonly version: RcloneVersion,
  ) {
    const since = FLAG_SINCE[flag]!;
    super(`rclone ${version.raw} does not support ${flag} (needs rclone >= ${since[0]}.${since[1]})`);
    this.name = "UnsupportedFlagError";
  }
}

/** Throws for the first flag in args the detected rclone does not have. */
export function assertFlagsSupported(v: RcloneVersion, args: readonly string[]): void {
  for (const arg of args) {
    if (!arg.startsWith("--")) continue;
    const flag = arg.split("=")[0]!;
    if (!flagSupported(v, flag)) throw new UnsupportedFlagError(flag, v);
  }
}
