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
});
