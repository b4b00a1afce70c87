// The repo provides Node 24 (the `node` dev dependency) to npm scripts, npx and therefore every test and
// CLI child: the product targets the Node that OpenClaw requires. On an older Node the bin says so and how to run
// it, instead of starting and degrading (no zstd, no SQLite capture).
import { execFileSync, spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { binPath, repoRoot } from "../support/cli.js";

/** A Node older than 24.16 on this machine (the system one), if there is one. */
function oldNode(): string | undefined {
  const found = spawnSync("sh", ["-c", "which -a node nodejs 2>/dev/null"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const candidate of found) {
    if (realpathSync(candidate) === realpathSync(process.execPath)) continue;
    const version = spawnSync(candidate, ["--version"], { encoding: "utf8" }).stdout.trim();
    const [major, minor] = version.replace(/^v/, "").split(".").map(Number) as [number, number];
    if (major < 24 || (major === 24 && minor < 16)) return candidate;
  }
  return undefined;
}

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

  const old = oldNode();
  it.skipIf(!old)("on an older Node the bin refuses to start (exit 2) and says how to run it", () => {
    const r = spawnSync(old!, [binPath, "backup", "now"], { encoding: "utf8", env: { ...process.env, PATH: "/usr/bin:/bin" } });
    const version = spawnSync(old!, ["--version"], { encoding: "utf8" }).stdout.trim().replace(/^v/, "");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`workspace-sync needs Node.js 24.16 or newer; this is Node ${version}`);
    expect(r.stderr).toMatch(/lose zstd compression and the consistent SQLite capture/);
    // in a checkout: the project's own Node, with the exact command
    expect(r.stderr).toContain(`cd ${repoRoot} && npx workspace-sync backup now`);
    expect(r.stderr).toContain(`${repoRoot}/node_modules/node/bin/node ${binPath} backup now`);
    expect(r.stderr).toMatch(/brew install node@24/);
    expect(r.stderr).not.toMatch(/SyntaxError|at .*\.js:\d+/);
    // and the hint works: npx in the checkout runs the bin with the project's Node 24
    const npx = spawnSync("npx", ["workspace-sync", "--version"], { cwd: repoRoot, encoding: "utf8", env: { ...process.env, PATH: `/usr/bin:/bin` } });
    expect(npx.status, npx.stderr).toBe(0);
    expect(npx.stdout).toMatch(/^node v24\./m);
  });
});
