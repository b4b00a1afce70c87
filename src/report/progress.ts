// One progress line of a long run (sync transfer, backup, verify, restore). The CLI draws it live on a terminal or
// logs it now and then (cli/progress.ts); the text is the same everywhere.
import type { RcloneStats } from "../rclone/log-parse.js";
import { formatBytes } from "./format.js";

export type ProgressStats = Pick<RcloneStats, "bytes" | "totalBytes" | "transfers" | "totalTransfers" | "speed" | "eta">;

export function formatProgress(label: string, s: ProgressStats): string {
  const pct = s.totalBytes ? Math.floor((s.bytes / s.totalBytes) * 100) : 100;
  const eta = s.eta !== null && s.eta !== undefined ? `, ETA ${Math.round(s.eta)}s` : "";
  return `${label}: ${formatBytes(s.bytes)} / ${formatBytes(s.totalBytes)} (${pct}%), ${s.transfers}/${s.totalTransfers} files, ${formatBytes(s.speed)}/s${eta}`;
}
