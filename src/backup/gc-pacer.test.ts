import { constants, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import { describe, expect, it } from "vitest";
import { gcPacer, majorDistance, pacerSteps } from "./gc-pacer.js";

const MIB = 1 << 20;

describe("majorDistance", () => {
  it("keeps the given step on a small heap and a quarter of the heap on a large one", () => {
    expect(majorDistance(8 * MIB, 12 * MIB)).toBe(8 * MIB); // the standalone CLI
    expect(majorDistance(8 * MIB, 30 * MIB)).toBe(8 * MIB);
    expect(majorDistance(8 * MIB, 400 * MIB)).toBe(100 * MIB); // a gateway's heap
    expect(majorDistance(64 * MIB, 400 * MIB)).toBe(100 * MIB);
  });
});

/** Full collections while `body` runs (gc entries are delivered asynchronously, hence the wait). */
async function majorsDuring(body: () => void): Promise<number> {
  let majors = 0;
  const seen = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  });
  seen.observe({ entryTypes: ["gc"] });
  body();
  await new Promise((r) => setTimeout(r, 50));
  seen.disconnect();
  return majors;
}

describe("gcPacer", () => {
  it("with minGrowth, holds a due full collection back until the heap has grown that much", () => {
    let heap = 20 * MIB;
    const steps = pacerSteps(8 * MIB, 32 * MIB, { minGrowth: 8 * MIB }, () => heap);
    const run = (from: number, to: number) => {
      const out: string[] = [];
      for (let total = from; total <= to; total += MIB) {
        const what = steps.due(total);
        if (what) out.push(`${what}@${total / MIB}`);
        if (what === "major") steps.collected(total);
      }
      return out;
    };
    // A minor every 8 MiB; the first full one when due (32 MiB), whatever the heap did.
    expect(run(MIB, 32 * MIB)).toEqual(["minor@8", "minor@16", "minor@24", "major@32"]);
    // The heap stays put: due again at 64 MiB, held back (minors only) for as long as it does not grow.
    expect(run(33 * MIB, 96 * MIB)).toEqual(["minor@40", "minor@48", "minor@56", "minor@64", "minor@72", "minor@80", "minor@88", "minor@96"]);
    // Grown by 8 MiB: the next step runs it; due again 32 MiB later, held back again (the heap has not grown since).
    heap += 8 * MIB;
    expect(run(97 * MIB, 144 * MIB)).toEqual(["major@104", "minor@112", "minor@120", "minor@128", "minor@136", "minor@144"]);
    heap += 7 * MIB; // not quite enough
    expect(run(145 * MIB, 152 * MIB)).toEqual(["minor@152"]);
    heap += MIB;
    expect(run(153 * MIB, 160 * MIB)).toEqual(["major@160"]);
  });

  it("without minGrowth, runs every due full collection", () => {
    const steps = pacerSteps(8 * MIB, 16 * MIB, {}, () => 20 * MIB);
    const kinds: string[] = [];
    for (let total = MIB; total <= 64 * MIB; total += MIB) {
      const what = steps.due(total);
      if (what) kinds.push(what);
      if (what === "major") steps.collected(total);
    }
    expect(kinds).toEqual(["minor", "major", "minor", "major", "minor", "major", "minor", "major"]);
  });

  it("spaces full collections by the heap's size, not only by the given step", async () => {
    // A heap of well over 100 MiB (like the gateway's): an 8 MiB step alone would mean 32 full collections for 256 MiB.
    const ballast = Array.from({ length: 1_500_000 }, (_, i) => ({ i, s: `item ${i}` }));
    const heap = v8.getHeapStatistics().used_heap_size;
    expect(heap).toBeGreaterThan(100 * MIB);
    let majors = 0;
    const seen = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
    });
    seen.observe({ entryTypes: ["gc"] });
    const pace = gcPacer(8 * MIB, 8 * MIB);
    for (let total = MIB; total <= 256 * MIB; total += MIB) pace(total);
    await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
    seen.disconnect();
    expect(ballast.length).toBe(1_500_000);
    expect(majors).toBeGreaterThan(0); // it does collect
    expect(majors).toBeLessThanOrEqual(Math.ceil((256 * MIB) / (heap / 4)) + 1);
  });
});
