// Progress for long runs: a live line on a terminal; otherwise a time-stamped line now and then (cron mail, logs).
// The text of a line is the report layer's (report/progress.ts); only how it is drawn lives here.
import type { RcloneStats } from "../rclone/log-parse.js";
import { formatProgress, type ProgressStats } from "../report/progress.js";
import { linePrefix } from "../util/logger.js";

const LOG_EVERY_MS = 10_000;

export function statsReporter(
  label: string,
  opts: { quiet?: boolean; stream?: NodeJS.WritableStream & { isTTY?: boolean } } = {},
): { onStats: (s: RcloneStats | ProgressStats) => void; done: () => void } {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { onStats: () => {}, done: () => {} }; // -q: only warnings and errors
  const tty = !!stream.isTTY;
  const prefix = linePrefix({ stream });
  let lastLog = Date.now(); // first non-TTY line only once a run has lasted a while
  let drew = false;
  return {
    onStats(s) {
      const line = formatProgress(label, s);
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        drew = true;
      } else if (Date.now() - lastLog > LOG_EVERY_MS && s.totalBytes > 0) {
        lastLog = Date.now();
        stream.write(`${prefix()}[workspace-sync] ${line}\n`);
      }
    },
    done() {
      if (drew) stream.write("\r\x1b[K");
    },
  };
}
