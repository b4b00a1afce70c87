// One progress line of a long run (sync transfer, backup, verify, restore). The CLI draws it live on a terminal or
// logs it now and then (cli/progress.ts); the text is the same everywhere.
import type { RcloneStats } from "../rclone/log-parse.js";
import { formatBytes } from "./format.js";

export type ProgressStats = Pick<RcloneStats, "bytes" | "totalBytes" | "transfers" | "totalTransfers" | "speed" | "eta">;

export function formatProgress(label: string, s: ProgressStats): string {
  const pct = s.totalBytes ? Math.floor((s.bytes / s.totalBytes) * 100) : 100;
  const eta = s.eta !== null && s.eta !== undefined ? `, ETA ${Math.round(s.eta)}s` : "";
  // No file total (a restore --path of a format read as one stream): the count alone, not "3/0".
  const files = s.totalTransfers ? `${s.transfers}/${s.totalTransfers}` : `${s.transfers}`;
  return `${label}: ${formatBytes(s.bytes)} / ${formatBytes(s.totalBytes)} (${pct}%), ${files} files, ${formatBytes(s.speed)}/s${eta}`;
}
