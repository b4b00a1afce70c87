// The standalone CLI owns its process, so it may tune V8 for the one command it runs (main.ts hands this to the
// commands as ProgramDeps.tuneForStreaming); the plugin never does: its commands and services run in openclaw's own
// process, whose heap is the host's and large enough not to need it. (The bin keeps the young generation small for
// every backup command itself, before anything is loaded: bin/workspace-sync.js.)
//
// An archive snapshot streams through a small heap: the CLI's old generation is ~12 MiB (bundle, config schema) and
// hardly grows, yet V8's rule for a heap that small keeps starting incremental marking again right after each full
// collection: ~180 full collections per GiB streamed, a third of a restore's time. Letting the old generation grow
// to three times its live size before V8 collects on its own leaves the full collections mostly to the byte-paced
// ones (backup/gc-pacer.ts). 1 GiB on this 2-core machine: a verify ~40 full collections instead of ~180, a restore
// ~80 (its pacer's, every 8 MiB) instead of ~200; restore 7–8 s instead of 9–11 s at a peak RSS of 139–143 MiB
// instead of 136, verify 4.6–5.3 s instead of 6.7–7.5 (docs/performance.md).
//
// A repository read (restore, verify, export) gets the same. Its own pacer runs a full collection every 128 MiB
// (repository/reader.ts), yet V8 started ~40 more per GiB on its own: the read-ahead keeps each planned file's nodes,
// tickets and slots alive past the 1 MiB young generation (~7 KB a file promoted), and with ~16 MiB live V8 began
// marking every ~4 MiB of them, on its helper threads (~2 s of CPU in a 1 GiB restore) beside the transport on two
// cores. 1 GiB over sftp, alternating builds: 9 full collections instead of 40–47, ~1 s less CPU, 13.0–14.3 s instead
// of 14.2–16.4 s; from a local folder into tmpfs 4.8–5.1 s instead of 5.4–5.8 s; peak RSS unchanged, 133–145 MiB
// (docs/performance.md).
//
// A repository backup is left as is but for an incremental one: a first backup keeps more live data (index, trees,
// pack buffers) and came out 10–25 MiB higher in peak RSS with the same time.
//
// An incremental repository backup is the other way round: it reads almost nothing, but walks the whole tree and
// keeps what it walked (the read-ahead's entries, a folder's parent tree and new nodes) for a while, so with the bin's
// 1 MiB young generation most of it survives minor collections and is copied twice on its way to the old
// generation: ~200 minor collections, ~0.27 s, in an unchanged 1 GiB run. A young generation four times that size
// (grown once, then held) cut them to ~55 (~0.13 s) and its peak RSS from 141–147 to 130–134 MiB (less is promoted
// early); left to grow freely it reached 186–209 MiB (docs/performance.md).
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import type { BackupFormat } from "../config/types.js";

export interface StreamingRun {
  format: BackupFormat;
  /** The run writes a snapshot (backup now); otherwise it reads one (verify, restore, export). */
  writes?: boolean;
  /** A backup that takes most files from a parent snapshot (this install has committed one before). */
  incremental?: boolean;
}

/** For the backup commands that stream a snapshot (now, verify, restore, export), once the format is known. */
export function tuneHeapForStreaming(run: StreamingRun): void {
  if (run.format === "archive" || !run.writes) v8.setFlagsFromString("--heap-growing-percent=200");
  else if (run.incremental) growYoungGeneration(YOUNG_GROWTH);
}

/** One growth step of V8's young generation: 1 MiB → 4 MiB semi-spaces. */
const YOUNG_GROWTH = 4;

/**
 * Lets V8 grow the young generation once by `factor`, then holds it there. V8 sizes the young generation only at
 * start-up or by its growth factor (a flag it reads whenever it grows the space), so the factor is raised now and
 * set back to 1 as soon as a minor collection has grown the space.
 */
export function growYoungGeneration(factor: number): void {
  const start = newSpaceSize();
  if (start === undefined) return;
  v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  const observer = new PerformanceObserver(() => {
    // Committing the second semi-space doubles the size without a growth; a growth multiplies it by `factor`.
    if ((newSpaceSize() ?? 0) <= 2 * start) return;
    v8.setFlagsFromString("--semi-space-growth-factor=1");
    observer.disconnect();
  });
  observer.observe({ entryTypes: ["gc"] });
}

function newSpaceSize(): number | undefined {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size;
}
