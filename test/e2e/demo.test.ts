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
      for (const step of ["Sync the workspace", "Send a file to the agent", "Take an encrypted backup", "List the snapshots", "Verify the newest snapshot", "Restore into a fresh folder", "Status", "Run it on a schedule"]) {
        expect(r.stdout).toContain(step);
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
