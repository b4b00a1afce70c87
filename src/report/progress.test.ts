import { describe, expect, it } from "vitest";
import { formatProgress } from "./progress.js";

describe("progress line", () => {
  it("shows bytes, files of their total, speed and ETA", () => {
    expect(formatProgress("restore", { bytes: 512 << 20, totalBytes: 1 << 30, transfers: 10, totalTransfers: 40, speed: 64 << 20, eta: 8 })).toBe(
      "restore: 512.0 MiB / 1.0 GiB (50%), 10/40 files, 64.0 MiB/s, ETA 8s",
    );
  });

  it("shows the file count alone when there is no total (a --path restore of an archive)", () => {
    expect(formatProgress("restore", { bytes: 1 << 20, totalBytes: 2 << 20, transfers: 3, totalTransfers: 0, speed: 0, eta: null })).toBe(
      "restore: 1.0 MiB / 2.0 MiB (50%), 3 files, 0 B/s",
    );
  });
});
