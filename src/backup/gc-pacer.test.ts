import { constants, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import { describe, expect, it } from "vitest";
import { gcPacer, majorDistance } from "./gc-pacer.js";

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
  it("with minGrowth, holds a due full collection back until the heap has grown that much", async () => {
    const pace = gcPacer(8 * MIB, 8 * MIB, { minGrowth: 32 * MIB });
    let total = 0;
    // The first due one runs; then a heap that does not grow gets minor collections only.
    const still = await majorsDuring(() => {
      for (total = MIB; total <= 128 * MIB; total += MIB) pace(total);
    });
    expect(still).toBe(1);
    // 40 MiB more held: the next due one runs.
    let ballast: { i: number; s: string }[] = [];
    const grown = await majorsDuring(() => {
      ballast = Array.from({ length: 600_000 }, (_, i) => ({ i, s: `item ${i}` }));
      for (const end = total + 16 * MIB; total <= end; total += MIB) pace(total);
    });
    expect(ballast.length).toBe(600_000);
    expect(grown).toBeGreaterThanOrEqual(1);
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
