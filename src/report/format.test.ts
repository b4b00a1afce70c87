import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, nameList } from "./format.js";

describe("report formatting", () => {
  it("sizes in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GiB");
  });

  it("durations from seconds to hours", () => {
    expect(formatDuration(1530)).toBe("1.5s");
    expect(formatDuration(125_000)).toBe("2m05s");
    expect(formatDuration(7_260_000)).toBe("2h01m");
  });

  it("bounded name lists say how many were left out", () => {
    expect(nameList(["a", "b"])).toBe("a, b");
    expect(nameList(["a", "b", "c"], 2)).toBe("a, b, … (1 more)");
  });
});
