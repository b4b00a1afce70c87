// Stall watch for a transfer whose connection to the remote died. rclone 1.60's sftp backend can hang for good
// when the server goes away mid-transfer (transfers wait on a connection pool that never recovers: no retry, no
// error, stats frozen), so only the run's overall timeout (30 min by default) would end it. Once rclone has
// reported a lost connection, a run whose stats stop moving and whose log goes quiet for STALL_MS is stopped and
// reported as "the remote could not be reached". Without a lost connection nothing is watched: a long listing or
// a slow server legitimately shows no progress for minutes.
import type { RcloneLogEntry, RcloneStats } from "./log-parse.js";

export const STALL_MS = 45_000;

const CONNECTION_LOST = /connection lost|connection reset|connection refused|broken pipe|closed SSH connection|unexpected EOF|no route to host|network is unreachable|i\/o timeout/i;

export class StallWatch {
  private lostAt: number | undefined;
  private lastActivity = Date.now();
  private lastStats = "";
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onStall: () => void,
    private readonly stallMs = STALL_MS,
  ) {}

  /** Every parsed log line (stats lines included). */
  see(entry: RcloneLogEntry): void {
    if (entry.stats) {
      const s: RcloneStats = entry.stats;
      const key = [s.bytes, s.checks, s.transfers, s.deletes, s.renames, s.errors, s.totalTransfers, (s as { totalChecks?: number }).totalChecks].join(",");
      if (key !== this.lastStats) this.activity();
      this.lastStats = key;
      return;
    }
    this.activity();
    if (this.lostAt === undefined && (entry.level === "error" || entry.level === "notice") && CONNECTION_LOST.test(entry.msg)) {
      this.lostAt = Date.now();
      this.arm();
    }
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private activity(): void {
    this.lastActivity = Date.now();
  }

  private arm(): void {
    clearTimeout(this.timer);
    const wait = Math.max(1_000, this.lastActivity + this.stallMs - Date.now());
    this.timer = setTimeout(() => {
      if (Date.now() - this.lastActivity >= this.stallMs) this.onStall();
      else this.arm();
    }, wait);
    this.timer.unref();
  }
}
