import { describe, expect, it } from "vitest";
import { closest, editDistance } from "./suggest.js";

describe("did you mean", () => {
  it("measures typos, transpositions included, ignoring case", () => {
    expect(editDistance("interval", "interval")).toBe(0);
    expect(editDistance("intervall", "interval")).toBe(1);
    expect(editDistance("inetrval", "interval")).toBe(1);
    expect(editDistance("RemotePath", "remotePath")).toBe(0);
  });

  it("suggests only what is within reach", () => {
    const keys = ["interval", "timeout", "mode", "remotePath"];
    expect(closest("intervl", keys)).toBe("interval");
    expect(closest("mdoe", keys)).toBe("mode");
    expect(closest("provider", keys)).toBeUndefined();
    expect(closest("x".repeat(100), keys)).toBeUndefined();
  });
});
