import { describe, expect, it } from "vitest";
import { assertFlagsSupported, flagSupported, parseRcloneVersion, UnsupportedFlagError } from "./version.js";

describe("rclone version and flags", () => {
  it("parses distribution and upstream version strings", () => {
    expect(parseRcloneVersion("rclone v1.60.1-DEV\n- os/version: debian").raw).toBe("1.60.1-DEV");
    const v = parseRcloneVersion("rclone v1.68.2\n");
    expect([v.major, v.minor, v.patch]).toEqual([1, 68, 2]);
  });
  it("knows which flags 1.60 lacks", () => {
    const old = parseRcloneVersion("rclone v1.60.1");
    const neu = parseRcloneVersion("rclone v1.66.0");
    expect(flagSupported(old, "--conflict-resolve")).toBe(false);
    expect(flagSupported(neu, "--conflict-resolve")).toBe(true);
    expect(flagSupported(old, "--max-delete")).toBe(true);
    expect(() => assertFlagsSupported(old, ["bisync", "a", "b", "--resilient"])).toThrow(UnsupportedFlagError);
    expect(() => assertFlagsSupported(old, ["sync", "--max-delete=3"])).not.toThrow();
  });
});
