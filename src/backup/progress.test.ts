import { describe, expect, it } from "vitest";
import { createMeter, type Progress } from "./progress.js";

describe("progress meter", () => {
  it("reports rate and ETA against the total, throttled", () => {
    let t = 0;
    const seen: Progress[] = [];
    const m = createMeter("backup", 1000, 10, (p) => seen.push(p), 250, () => t);
    t = 100;
    m.update(50, 1); // within the first throttle window
    t = 1000;
    m.update(250, 3);
    t = 1100;
    m.update(300, 3); // throttled
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ bytes: 250, files: 3, speed: 250, eta: 3 });
    m.finish();
    expect(seen.at(-1)!.bytes).toBe(300);
  });
});
