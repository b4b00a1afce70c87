// Fault case: the user presses Ctrl-C (or a supervisor sends SIGTERM) while a sync or a backup runs. rclone runs in
// its own process group, so the terminal's signal reaches only the CLI: the CLI must stop its rclone children
// itself, release the lock, record the run as failed, exit with the shell's code for the signal (130 / 143), and
// the next run must complete normally with nothing lost.
import { statSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTree, sha256, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { startCli } from "../support/cli.js";
import { makeWorld } from "../support/world.js";
import { expectNoOrphans, expectNoRcloneLeft, expectRestoreLatest, killWorld, listOf, ok, rclonesOf, SLOW, waitFor } from "./lib/backup-kit.js";
import { localFiles, remoteFiles } from "./lib/sync-kit.js";

describe("Ctrl-C and SIGTERM during a run", () => {
  let local: TestServer;
  beforeAll(async () => {
    local = await startServer("local");
  });
  afterAll(async () => {
    await stopAll();
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("sync interrupted by %s mid-transfer: exit %i, no rclone left, next sync completes", { timeout: 120_000 }, async (sig, code) => {
    const folder = `int-sync-${sig}`;
    const w = await makeWorld({ sync: { ...local.configBlock, mode: "mailbox", remotePath: folder } });
    try {
      const tree: Record<string, Buffer> = {};
      for (let i = 0; i < 20; i++) tree[`notes/n${i}.md`] = Buffer.from(`note ${i}\n`.repeat(50 + i));
      tree["media/big.bin"] = Buffer.alloc(6 << 20, 3);
      for (const [rel, body] of Object.entries(tree)) {
        await mkdir(path.dirname(path.join(w.workspace, rel)), { recursive: true });
        await writeFile(path.join(w.workspace, rel), body);
      }
      const before = await localFiles(w.workspace, [".workspace-sync"]);
      const run = startCli(["sync"], { env: { ...w.env, ...SLOW } });
      const copying = await waitFor(() => rclonesOf(w).find((p) => p.argv[1] === "copy" || p.argv[1] === "sync"), 30_000);
      expect(copying, "a transferring rclone child appeared").toBeDefined();
      await new Promise((r) => setTimeout(r, 300));
      process.kill(run.child.pid!, sig);
      const res = await run.done;
      expect(res.code, res.stderr).toBe(code);
      expect(res.stderr).toContain(`${sig} received, stopping`);
      expect(res.stderr, "no JavaScript stack").not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      await expectNoRcloneLeft(w, 5_000);

      // The run is recorded as failed, the lock is free, and nothing in the workspace changed.
      const status = JSON.parse((await w.cli("status", "--json")).stdout) as { sync: { lastRun?: { ok: boolean; error?: string } } };
      expect(status.sync.lastRun?.ok).toBe(false);
      expect(status.sync.lastRun?.error).toMatch(/interrupted|SIG/);
      expect(await localFiles(w.workspace, [".workspace-sync"])).toEqual(before);

      const next = await w.cli("sync");
      expect(next.code, next.stderr).toBe(0);
      const remote = await remoteFiles(local, folder);
      for (const [rel, body] of Object.entries(tree)) expect(remote[rel], rel).toBe(sha256(body));
    } finally {
      await w.cleanup();
    }
  });

  it("backup interrupted by SIGINT mid-upload: exit 130, no snapshot, no leftover after the next backup", { timeout: 120_000 }, async () => {
    const s = await killWorld(local, 2, { viaRclone: true });
    try {
      ok(await s.w.cli("backup", "now"));
      const first = await readTree(s.w.workspace);
      await writeFile(path.join(s.w.workspace, "later.txt"), "written after the first snapshot\n");
      const run = startCli(["backup", "now"], { env: { ...s.w.env, ...SLOW } });
      // The first snapshot's object is already there: wait for this run's upload child, then for its bytes.
      const before = new Set(await readdir(s.repoDir));
      const rcat = await waitFor(() => rclonesOf(s.w).find((p) => p.argv[1] === "rcat" && !p.argv.some((a) => a.endsWith(".manifest.json"))), 30_000);
      expect(rcat, "the data upload started").toBeDefined();
      const growing = async () => (await readdir(s.repoDir)).some((n) => !before.has(n) && statSync(path.join(s.repoDir, n)).size > 0);
      expect(await waitFor(growing, 30_000), "bytes of the new object on the remote").toBe(true);
      process.kill(run.child.pid!, "SIGINT");
      const res = await run.done;
      expect(res.code, res.stderr).toBe(130);
      expect(res.stderr).toMatch(/no snapshot was committed/);
      await expectNoRcloneLeft(s.w, 5_000);

      // Only the first snapshot exists; restore latest gives it back.
      const list = await listOf(s.w);
      expect(list.snapshots).toHaveLength(1);
      await expectRestoreLatest(s.w, first, "after the interrupted backup");

      // The next backup commits and cleans the interrupted run's partial object.
      ok(await s.w.cli("backup", "now"), "backup after the interrupt");
      const after = await listOf(s.w);
      expect(after.snapshots).toHaveLength(2);
      await expectNoOrphans(s.w, s.repo, after, "after the next backup");
    } finally {
      await s.w.cleanup();
    }
  });
});
