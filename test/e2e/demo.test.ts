// `npm run demo` tells the whole story through the CLI only (sync, inbox, backup, list, verify, restore, status):
// it must run to the end on a fresh machine's local folders, whatever the backup engine looks like inside.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, testEnv } from "../support/cli.js";

describe("npm run demo", () => {
  it("runs every step to the end and leaves a restored copy of the workspace", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "wsync-demo-"));
    try {
      const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts", "demo.mjs")], { env: testEnv({ DEMO_DIR: dir, HOME: dir }), encoding: "utf8" });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      for (const step of ["Sync the workspace", "Send a file to the agent", "Take an encrypted backup", "Change a file and back up again", "List the snapshots", "Verify the newest snapshot", "Restore into a fresh folder", "Status", "Run it on a schedule"]) {
        expect(r.stdout).toContain(step);
      }
      // The format a new setup gets: a restic repository, two snapshots, the second adding less than the first.
      expect(r.stdout + r.stderr).toMatch(/created a restic repository \(format version 2\)/);
      const stored = [...r.stdout.matchAll(/snapshot [0-9a-f]{8} committed: 5 files, .* archived, ([\d.]+) (B|KiB) stored/g)].map((m) => Number(m[1]) * (m[2] === "KiB" ? 1024 : 1));
      expect(stored).toHaveLength(2);
      expect(stored[1]).toBeLessThan(stored[0]!);
      expect(r.stdout).toMatch(/of file data, every pack it uses read back and checked/);
      // restic opens the same repository (CI installs it; the step is left out where restic is missing).
      if (spawnSync("restic", ["version"], { stdio: "ignore" }).status === 0) {
        expect(r.stdout).toContain("Open it with restic");
        expect(r.stdout).toMatch(/^2 snapshots$/m);
      }
      expect(await readdir(path.join(dir, "state", "workspace", "_inbox"))).toEqual(["hello-agent.txt"]);
      const restoredMemory = path.join(dir, "restored", "workspace", "MEMORY.md");
      expect(await readFile(restoredMemory, "utf8")).toBe("# Memory\n- the demo agent remembers this\n");
      expect(r.stdout).toMatch(/all well/);
      expect(r.stdout).toMatch(/^# >>> workspace-sync [0-9a-f]{8} >>>$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
