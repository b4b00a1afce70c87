// Paces garbage collection to a stream's bytes. zlib, the cipher and rclone's pipes hand out a fresh Buffer for every
// chunk; once passed on, each one is garbage whose memory lives outside V8's heap. V8 collects such buffers only
// after ~64 MiB of them piled up (its external-memory trigger), which alone is most of the backup's memory budget
// (measured on 1 GiB: peak RSS 175–200 MiB without pacing, ~140 MiB with it). A minor collection every 8 MiB frees
// them while they are still young (about a millisecond each); the few that lived through two minor collections sit in
// the old generation, so every 64 MiB a full collection of the (small, ~10 MiB) heap frees those too — on 10 GiB that
// took the peak from ~160 to ~150 MiB. Neither changes the wall time measurably. (A restore paces full collections
// every 8 MiB: its writer keeps more alive across minor collections; see archive/transfer.ts.)
import v8 from "node:v8";
import vm from "node:vm";

type GcFunction = (options?: { type?: "minor" | "major"; execution?: "sync" | "async" }) => void;

const MINOR_EVERY = 8 * 1024 * 1024;
const MAJOR_EVERY = 64 * 1024 * 1024;
let gc: GcFunction | null | undefined;

/** V8's gc(), obtained without a command-line flag: --expose-gc applies to contexts created after it is set. */
function collector(): GcFunction | null {
  if (gc !== undefined) return gc;
  try {
    if (typeof globalThis.gc === "function") gc = globalThis.gc as GcFunction;
    else {
      v8.setFlagsFromString("--expose-gc");
      const fn: unknown = vm.runInNewContext("gc");
      gc = typeof fn === "function" ? (fn as GcFunction) : null;
    }
  } catch {
    gc = null; // an embedder that forbids it: memory is then only higher, never wrong
  }
  return gc;
}

/**
 * Bytes of stream until the next full collection: `majorEvery`, but never less than a quarter of the heap in use. A
 * full collection costs about as much as marking the heap: ~10 ms for the standalone CLI's 12–30 MiB (where the
 * floor stays below the 8 MiB a restore paces at), but inside the gateway (hundreds of MiB, whose own collector is not
 * short of room) a fixed 8 MiB step would cost more than the stream itself.
 */
export function majorDistance(majorEvery: number, heapUsed: number): number {
  return Math.max(majorEvery, Math.floor(heapUsed / 4));
}

export interface PacerOptions {
  /**
   * A full collection that is due runs only once the heap in use has grown by this much since the last one (until then
   * a minor one runs, and the next step asks again). For a reader that frees its buffers itself (a repository
   * restore), whose full collections then find nothing to free through long stretches (large files), yet cost the
   * main thread ~20 ms each. The first due one always runs. Unset: every due full collection runs.
   */
  minGrowth?: number;
}

/** The heap in use, as V8 reports it. */
const heapInUse = (): number => v8.getHeapStatistics().used_heap_size;

export interface PacerSteps {
  /** What is due at this running total: nothing, a minor or a full collection. */
  due(total: number): "minor" | "major" | undefined;
  /** A full collection ran at this total (the heap is read now, after it). */
  collected(total: number): void;
}

/**
 * The pacer's decisions alone (what gcPacer runs at each running total), given how to read the heap in use — the
 * tests drive it with made-up heap sizes.
 */
export function pacerSteps(minorEvery: number, majorEvery: number, opts: PacerOptions, heapUsed: () => number): PacerSteps {
  let nextMinor = minorEvery;
  let nextMajor = majorDistance(majorEvery, heapUsed());
  let heapAfterMajor: number | undefined; // none yet: the first due one runs (it frees what came before the stream)
  return {
    due(total) {
      if (total < nextMinor) return undefined;
      nextMinor = total + minorEvery;
      if (total < nextMajor) return "minor";
      if (opts.minGrowth && heapAfterMajor !== undefined && heapUsed() - heapAfterMajor < opts.minGrowth) return "minor";
      return "major";
    },
    collected(total) {
      const used = heapUsed();
      heapAfterMajor = used;
      nextMajor = total + majorDistance(majorEvery, used);
    },
  };
}

/**
 * Returns a callback for a running byte total: a minor collection every 8 MiB, a full one every 64 MiB (or as given:
 * a reader whose buffers live longer than one chunk — the repository's read-ahead — needs full ones more often), spaced
 * further apart on a large heap (see majorDistance), and held back while the heap has not grown (see minGrowth).
 */
export function gcPacer(minorEvery = MINOR_EVERY, majorEvery = MAJOR_EVERY, opts: PacerOptions = {}): (total: number) => void {
  const run = collector();
  if (!run) return () => {};
  const steps = pacerSteps(minorEvery, majorEvery, opts, heapInUse);
  return (total) => {
    const what = steps.due(total);
    if (!what) return;
    run({ type: what });
    if (what === "major") steps.collected(total);
  };
}
