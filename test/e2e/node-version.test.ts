// The repo provides Node 24 (the `node` dev dependency) to npm scripts, npx and therefore every test and
// CLI child: the product targets the Node that OpenClaw requires.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("Node runtime", () => {
  it("tests and the CLI run on Node >= 24.16 with zstd and node:sqlite", async () => {
    const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
    expect(major > 24 || (major === 24 && minor >= 16)).toBe(true);
    const zlib = await import("node:zlib");
    expect(typeof zlib.createZstdCompress).toBe("function");
    const sqlite = await import("node:sqlite");
    expect(typeof sqlite.DatabaseSync).toBe("function");
    expect(execFileSync(process.execPath, ["--version"]).toString().trim()).toBe(process.version);
  });
});
