// Byte progress for backup, verify and restore: rate and ETA against a known total (the pre-scan for a backup,
// the stored size for verify/restore), throttled so a fast stream does not flood the terminal.

export interface Progress {
  phase: "backup" | "verify" | "restore" | "export";
  bytes: number;
  totalBytes: number;
  files: number;
  totalFiles: number;
  /** Bytes per second since the start. */
  speed: number;
  /** Seconds left at the current rate, null before the rate is known. */
  eta: number | null;
  elapsedSeconds: number;
}

export type ProgressSink = (p: Progress) => void;

export interface Meter {
  update(bytes: number, files?: number): void;
  /** The total became known (or better known) while running. */
  setTotal(bytes: number, files: number): void;
  /** Emits a final 100% reading. */
  finish(): void;
}

export function createMeter(phase: Progress["phase"], totalBytes: number, totalFiles: number, sink: ProgressSink | undefined, intervalMs = 250, now = () => Date.now()): Meter {
  const start = now();
  let last = 0;
  let bytes = 0;
  let files = 0;
  const emit = () => {
    if (!sink) return;
    const elapsed = Math.max(0.001, (now() - start) / 1000);
    const speed = bytes / elapsed;
    const left = Math.max(0, totalBytes - bytes);
    sink({ phase, bytes, totalBytes, files, totalFiles, speed, eta: speed > 0 && elapsed > 0.5 ? left / speed : null, elapsedSeconds: elapsed });
  };
  return {
    update(b, f) {
      bytes = b;
      if (f !== undefined) files = f;
      const t = now();
      if (t - last < intervalMs) return;
      last = t;
      emit();
    },
    setTotal(b, f) {
      totalBytes = b;
      totalFiles = f;
    },
    finish() {
      totalBytes = Math.max(totalBytes, bytes);
      emit();
    },
  };
}
