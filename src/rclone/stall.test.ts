import { describe, expect, it } from "vitest";
import { StallWatch } from "./stall.js";

const stats = (bytes: number) => ({ level: "warning", msg: "", stats: { bytes, totalBytes: 10, transfers: 0, totalTransfers: 1, checks: 0, deletes: 0, renames: 0, errors: 1, speed: 0, eta: null, elapsedTime: 1 } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("stall watch", () => {
  it("fires only after a lost connection followed by frozen stats and a quiet log", async () => {
    let stalled = 0;
    const watch = new StallWatch(() => stalled++, 50);
    watch.see(stats(1));
    await sleep(120);
    expect(stalled).toBe(0); // no lost connection: a quiet run is never stopped
    watch.see({ level: "error", msg: "big.bin: Failed to copy: connection lost" });
    for (let i = 0; i < 3; i++) {
      watch.see(stats(1)); // frozen stats do not count as progress
      await sleep(10);
    }
    await sleep(1_200);
    expect(stalled).toBe(1);
    watch.stop();
  });

  it("progress after the lost connection keeps the run alive", async () => {
    let stalled = 0;
    const watch = new StallWatch(() => stalled++, 400);
    watch.see({ level: "error", msg: "Discarding closed SSH connection: EOF" });
    for (let i = 2; i < 12; i++) {
      watch.see(stats(i));
      await sleep(100);
    }
    expect(stalled).toBe(0);
    watch.stop();
  });

  it("a run quiet without saying why asks the remote: no answer stops it", async () => {
    let stalled = 0;
    let probes = 0;
    const watch = new StallWatch(() => stalled++, 300, async () => {
      probes++;
      return false;
    });
    watch.see(stats(1));
    await sleep(150);
    expect(probes).toBe(0); // not quiet long enough yet
    await sleep(1_300);
    expect(probes).toBe(1);
    expect(stalled).toBe(1);
    watch.stop();
  });

  it("a remote that answers keeps a quiet run going, and is asked again only after another quiet period", async () => {
    let stalled = 0;
    const asked: number[] = [];
    const started = Date.now();
    const watch = new StallWatch(() => stalled++, 1_000, async () => {
      asked.push(Date.now() - started);
      return true;
    });
    await sleep(3_600);
    expect(stalled).toBe(0);
    // Quiet from the start: asked at ~1 s, ~2 s, ~3 s (one probe per quiet period, not one per timer tick).
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(asked.length).toBeLessThanOrEqual(4);
    for (let i = 1; i < asked.length; i++) expect(asked[i]! - asked[i - 1]!).toBeGreaterThanOrEqual(900);
    watch.stop();
  });

  it("progress while the probe runs outweighs its answer", async () => {
    let stalled = 0;
    let release: (v: boolean) => void = () => {};
    const watch = new StallWatch(() => stalled++, 200, () => new Promise<boolean>((r) => (release = r)));
    await sleep(1_300); // the probe is running now
    watch.see(stats(5));
    release(false);
    await sleep(50);
    expect(stalled).toBe(0);
    watch.stop();
  });

  it("stop() cancels a running probe, and a late answer changes nothing", async () => {
    let stalled = 0;
    let seen: AbortSignal | undefined;
    let release: (v: boolean) => void = () => {};
    const watch = new StallWatch(() => stalled++, 200, (signal) => {
      seen = signal;
      return new Promise<boolean>((r) => (release = r));
    });
    await sleep(1_300);
    expect(seen?.aborted).toBe(false);
    watch.stop();
    expect(seen?.aborted).toBe(true);
    release(false);
    await sleep(50);
    expect(stalled).toBe(0);
  });

  it("a lost connection during quiet needs no probe", async () => {
    let stalled = 0;
    let probes = 0;
    const watch = new StallWatch(() => stalled++, 300, async () => {
      probes++;
      return true;
    });
    watch.see({ level: "error", msg: "x: Failed to copy: connection lost" });
    await sleep(1_400);
    expect(stalled).toBe(1);
    expect(probes).toBe(0);
    watch.stop();
  });
});
