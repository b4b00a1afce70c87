// Progress for long runs: a live line on a TTY, an occasional one-line log otherwise.
import type { RcloneStats } from "../rclone/log-parse.js";

function human(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function formatBytes(bytes: number): string {
  return human(bytes);
}

export function statsReporter(label: string, opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): { onStats: (s: RcloneStats) => void; done: () => void } {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { onStats: () => {}, done: () => {} }; // -q: only warnings and errors
  const tty = !!stream.isTTY;
  let lastLog = Date.now(); // first non-TTY line only once a run has lasted a while
  let drew = false;
  return {
    onStats(s) {
      const pct = s.totalBytes ? Math.floor((s.bytes / s.totalBytes) * 100) : 100;
      const eta = s.eta !== null && s.eta !== undefined ? `, ETA ${Math.round(s.eta)}s` : "";
      const line = `${label}: ${human(s.bytes)} / ${human(s.totalBytes)} (${pct}%), ${s.transfers}/${s.totalTransfers} files, ${human(s.speed)}/s${eta}`;
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        drew = true;
      } else if (Date.now() - lastLog > 10_000 && s.totalBytes > 0) {
        lastLog = Date.now();
        stream.write(`[workspace-sync] ${line}\n`);
      }
    },
    done() {
      if (drew) stream.write("\r\x1b[K");
    },
  };
}
