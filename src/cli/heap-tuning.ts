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
// The repository format is left as is: its first backup keeps more live data (index, trees, pack buffers) and came
// out 10–25 MiB higher in peak RSS with the same time.
import v8 from "node:v8";
import type { BackupFormat } from "../config/types.js";

/** For the backup commands that stream a snapshot (now, verify, restore, export), once the format is known. */
export function tuneHeapForStreaming(format: BackupFormat): void {
  if (format === "archive") v8.setFlagsFromString("--heap-growing-percent=200");
}
