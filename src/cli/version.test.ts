import { describe, expect, it } from "vitest";
import { wantsVersion } from "./version.js";

describe("--version among the global options", () => {
  it("is seen before the command name, after value options, and not as a command's own argument", () => {
    expect(wantsVersion(["--version"])).toBe(true);
    expect(wantsVersion(["-V"])).toBe(true);
    expect(wantsVersion(["--state-dir", "/x", "-q", "-V"])).toBe(true);
    expect(wantsVersion(["--config", "--version"])).toBe(false); // a file named --version
    expect(wantsVersion(["sync", "--version"])).toBe(false);
    expect(wantsVersion([])).toBe(false);
  });
});
