import { describe, expect, it } from "vitest";
import { idleGate } from "./idle-gate.js";

/** Keeps the event loop busy (a chain of immediates, each spinning ~3 ms) until `stop` is set. */
function keepBusy(state: { stop: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const step = () => {
      const until = performance.now() + 3;
      while (performance.now() < until) {
        // spin
      }
      if (state.stop) resolve();
      else setImmediate(step);
    };
    setImmediate(step);
  });
}

describe("idle gate", () => {
  it("lets work through on an idle loop", async () => {
    const gate = idleGate();
    for (let i = 0; i < 3; i++) await gate.turn();
  });

  it("holds work back while the loop is busy, and lets it through at once after hurry()", async () => {
    const gate = idleGate({ windowMs: 1 });
    const state = { stop: false };
    const busy = keepBusy(state);
    let passed = false;
    const turn = gate.turn().then(() => (passed = true));
    // ~50 looks at the loop, every one of them busy
    for (let i = 0; i < 15; i++) await new Promise<void>((r) => setImmediate(r));
    expect(passed).toBe(false);
    gate.hurry();
    await turn;
    expect(passed).toBe(true);
    await gate.turn(); // open for good
    state.stop = true;
    await busy;
  });
});
