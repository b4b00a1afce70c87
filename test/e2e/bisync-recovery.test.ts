// A bisync whose rclone is killed with SIGKILL mid-copy (rclone 1.60 leaves a truncated file under the
// real name) must heal on the next run: the good copy wins under its own name, nothing renamed, nothing lost.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend, type StartedBackend } from "../support/backends.js";
import { startCli } from "../support/cli.js";
import { rclone, rcloneBuffer } from "../support/remote-view.js";
import { makeWorld } from "../support/world.js";
import { readTreeContents } from "../support/tree.js";
import { readdirSync, readFileSync } from "node:fs";

function findRcloneBisync(marker: string): number | undefined {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes("bisync") && cmd.includes(marker) && cmd.startsWith("/usr/bin/rclone")) return Number(pid);
      if (cmd.includes("bisync") && cmd.includes(marker) && cmd.split("\0")[0]!.endsWith("rclone")) return Number(pid);
    } catch {
      // process ended
    }
  }
  return undefined;
}

describe.each(["local", "sftp"] as const)("bisync interrupted by kill -9 on %s", (kind) => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend(kind).start();
  });
  afterAll(async () => server?.stop());

  it("heals the truncated copy on the next run and loses nothing", async () => {
    const folder = `heal-${Date.now()}`;
    // Slow transfers down so the kill lands mid-copy (rclone reads flag defaults from RCLONE_*).
    const w = await makeWorld({ sync: { ...server.block, mode: "bisync", remotePath: folder } }, { RCLONE_BWLIMIT: "8M" });
    try {
      await writeFile(path.join(w.workspace, "small.txt"), "small\n");
      const base = await w.cli("sync", "--resync", "--yes");
      expect(base.code, base.stderr).toBe(0);
      const big = randomBytes(24 * 1024 * 1024);
      await writeFile(path.join(w.workspace, "big.bin"), big);

      const run = startCli(["sync"], { env: w.env });
      let pid: number | undefined;
      for (let i = 0; i < 100 && !pid; i++) {
        await new Promise((r) => setTimeout(r, 50));
        pid = findRcloneBisync(folder);
      }
      expect(pid).toBeDefined();
      await new Promise((r) => setTimeout(r, 1200)); // part of big.bin is across
      process.kill(pid!, "SIGKILL");
      const killed = await run.done;
      expect(killed.code).toBe(1);

      const healed = await w.cli("sync");
      expect(healed.code, healed.stderr).toBe(0);
      expect(healed.stderr).toMatch(/healed an interrupted bisync/);
      const local = await readTreeContents(w.workspace, [".workspace-sync"]);
      expect(Object.keys(local).sort()).toEqual(["big.bin", "small.txt"]);
      expect((await readFile(path.join(w.workspace, "big.bin"))).equals(big)).toBe(true);
      const listing = JSON.parse(await rclone(w.stateDir, "lsjson", "-R", "--files-only", `cloud:${server.pathPrefix}${folder}`)) as { Path: string; Size: number }[];
      expect(listing.map((f) => f.Path).sort()).toEqual(["big.bin", "small.txt"]);
      const remoteBig = await rcloneBuffer(w.stateDir, "cat", `cloud:${server.pathPrefix}${folder}/big.bin`);
      expect(remoteBig.equals(big)).toBe(true);
      // A later normal cycle is quiet.
      const again = await w.cli("sync");
      expect(again.code, again.stderr).toBe(0);
    } finally {
      await w.cleanup();
    }
  });
});

describe("bisync on a tiny workspace (local backend)", () => {
  it("rclone's 'all files changed' stop is explained, and `sync --force` gets past it once", async () => {
    const remoteRoot = await mkdtemp(path.join(os.tmpdir(), "wsync-force-"));
    const w = await makeWorld({ sync: { provider: "local", local: { path: remoteRoot }, mode: "bisync", remotePath: "share" } });
    try {
      await writeFile(path.join(w.workspace, "only.md"), "first\n");
      expect((await w.cli("sync", "--resync", "--yes")).code).toBe(0);
      await new Promise((r) => setTimeout(r, 1100)); // a later mtime
      await writeFile(path.join(w.workspace, "only.md"), "second\n");

      const stopped = await w.cli("sync");
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toMatch(/every file on the workspace side changed/);
      expect(stopped.stderr).toMatch(/workspace-sync sync --force/);
      expect(await readFile(path.join(remoteRoot, "share", "only.md"), "utf8")).toBe("first\n");

      const forced = await w.cli("sync", "--force");
      expect(forced.code, forced.stderr).toBe(0);
      expect(await readFile(path.join(remoteRoot, "share", "only.md"), "utf8")).toBe("second\n");
      expect((await w.cli("sync")).code).toBe(0); // back to normal runs

      const misuse = await w.cli("sync", "--force", "--direction", "push");
      expect(misuse.code).toBe(2);
    } finally {
      await w.cleanup();
      await rm(remoteRoot, { recursive: true, force: true });
    }
  });
});
