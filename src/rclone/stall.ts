// Stall watch for an rclone call whose connection to the remote died. rclone 1.60's sftp backend can hang for good
// when the server goes away mid-transfer (transfers wait on a connection pool that never recovers: no retry, no
// error, stats frozen), so only the run's overall timeout (30 min by default) would end it.
// - Once rclone has reported a lost connection, a call whose stats and output stop moving and whose log goes quiet
//   for STALL_MS is stopped and reported as "the remote could not be reached".
// - rclone does not always say so: a server killed at the wrong moment can leave it hanging without a single error
//   line (about once in 60 kills of `rclone serve sftp`), and a server that accepts connections but never answers
//   holds it silent from the start. A call that is quiet for STALL_MS without such a line therefore asks the remote
//   directly (the caller's probe, a short request of its own): no answer stops the call the same way; an answer means
//   the quiet is legitimate (a long listing, a slow server) and the next probe waits for another STALL_MS of quiet.
import type { RcloneLogEntry, RcloneStats } from "./log-parse.js";

export const STALL_MS = 45_000;

/** rclone's words for a connection to the remote that failed or died. */
export const CONNECTION_LOST = /connection lost|connection reset|connection refused|connection timed out|broken pipe|closed SSH connection|unexpected EOF|handshake failed|no route to host|no such host|network is unreachable|i\/o timeout/i;

/** Does the remote still answer? false only when it clearly does not (refused, timed out). Ends on `signal`. */
export type RemoteProbe = (signal: AbortSignal) => Promise<boolean>;

export class StallWatch {
  private lostAt: number | undefined;
  private lastActivity = Date.now();
  private lastStats = "";
  private timer: NodeJS.Timeout | undefined;
  private probing: AbortController | undefined;
  /** When the remote last answered a probe: the next probe waits another STALL_MS of quiet from there. */
  private answeredAt = 0;
  private stopped = false;

  constructor(
    private readonly onStall: () => void,
    private readonly stallMs = STALL_MS,
    private readonly probe?: RemoteProbe,
  ) {
    // With a probe a quiet run is checked from the start; without one only after a lost connection.
    if (probe) this.arm();
  }

  /** Output that shows the call moving (a listing's lines, data read from stdout). */
  progress(): void {
    this.activity();
  }

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
      if (!this.probing) this.arm(); // from now on the quiet alone decides, no probe needed
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.probing?.abort(); // the probe's own rclone must not outlive the transfer it watched
  }

  private activity(): void {
    this.lastActivity = Date.now();
  }

  private arm(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const wait = Math.max(1_000, this.quietSince() + this.stallMs - Date.now());
    this.timer = setTimeout(() => this.check(), wait);
    this.timer.unref();
  }

  private check(): void {
    if (this.stopped || this.probing) return;
    if (this.lostAt !== undefined || !this.probe) {
      if (Date.now() - this.lastActivity < this.stallMs) return this.arm();
      return this.stall();
    }
    if (Date.now() - this.quietSince() < this.stallMs) return this.arm();
    const probing = (this.probing = new AbortController());
    const activityBefore = this.lastActivity;
    this.probe(probing.signal).then(
      (answers) => this.probed(answers, activityBefore),
      () => this.probed(true, activityBefore), // a probe that cannot run says nothing about the remote
    );
  }

  private probed(answers: boolean, activityBefore: number): void {
    this.probing = undefined;
    if (this.stopped) return;
    if (answers) this.answeredAt = Date.now();
    // A remote that answers, or progress while the probe ran: the quiet was legitimate.
    if (answers || this.lastActivity !== activityBefore || this.lostAt !== undefined) return this.arm();
    this.stall();
  }

  private quietSince(): number {
    return this.lostAt === undefined ? Math.max(this.lastActivity, this.answeredAt) : this.lastActivity;
  }

  private stall(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStall();
  }
}
