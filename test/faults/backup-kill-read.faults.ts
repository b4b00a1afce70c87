// Fault case 2, read side: kill -9 of `backup verify` and `backup restore` mid-stream and after the stream, hitting
// the CLI, its `rclone cat`, or both. A killed verify changes nothing (the next one passes, `restore latest` is
// byte-identical). A killed restore never leaves a tree that looks complete (docs/backup.md, "Restore"): a new target
// appears only complete (hidden sibling staging renamed into place); an existing target carries
// WORKSPACE-SYNC-RESTORE-INCOMPLETE.txt until the last entry is in place; the same command run again completes the job
// and leaves no staging folder.
import { access, mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomTree, readTree, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { expectNoRcloneLeft, expectRestoreLatest, type KillPlan, killedRun, killWorld, listOf, ok, seeded, SLOW, stagingLeft } from "./lib/backup-kit.js";

const MARKER = "WORKSPACE-SYNC-RESTORE-INCOMPLETE.txt";
const exists = (p: string) => access(p).then(() => true, () => false);

describe("kill -9 of backup verify and restore", () => {
  let local: TestServer;
  beforeAll(async () => {
    local = await startServer("local");
  });
  afterAll(async () => {
    await stopAll();
  });

  it("backup verify killed mid-stream (CLI, rclone child): nothing changes, the next verify passes", async () => {
    const s = await killWorld(local, 2, { viaRclone: true });
    try {
      ok(await s.w.cli("backup", "now"));
      const before = await listOf(s.w);
      const cli = await killedRun(s.w, ["backup", "verify"], { phase: "mid-cat", victim: "cli", delayMs: 100 }, { env: SLOW });
      expect(cli.killed).toBe(true);
      expect(cli.res.signal).toBe("SIGKILL");
      await expectNoRcloneLeft(s.w); // the orphaned `rclone cat` ends with its reader

      const child = await killedRun(s.w, ["backup", "verify"], { phase: "mid-cat", victim: "rclone", delayMs: 100 }, { env: SLOW });
      expect(child.killed).toBe(true);
      expect(child.res.code, child.res.stderr).toBe(1);
      expect(child.res.stdout).not.toMatch(/^ok /m);
      expect(child.res.stderr).toMatch(/rclone cat was killed by SIGKILL/);

      expect(await listOf(s.w)).toEqual(before);
      expect(ok(await s.w.cli("backup", "verify"))).toMatch(/^ok /m);
      await expectRestoreLatest(s.w, await readTree(s.w.workspace), "after killed verifies");
    } finally {
      await s.w.cleanup();
    }
  });

  it("backup restore killed mid-stream and after the stream: no tree that looks complete; the retry succeeds", { timeout: 240_000 }, async () => {
    const s = await killWorld(local, 2, { viaRclone: true });
    const { w } = s;
    try {
      ok(await w.cli("backup", "now"));
      const expected = await readTree(w.workspace);
      const rnd = seeded(99);

      /** After a killed restore into `target`: complete and identical, or visibly not complete. */
      const judge = async (target: string, what: string): Promise<"complete" | "absent" | "empty" | "marked"> => {
        const entries = (await readdir(target).catch(() => undefined))?.filter((n) => !n.startsWith(".workspace-sync-restore-"));
        if (entries === undefined) return "absent";
        if (entries.includes(MARKER)) return "marked";
        if (entries.length === 0) return "empty";
        // Visible entries and no marker: this must be the whole snapshot.
        expect(await readTree(path.join(target, "workspace")), `${what}: a target without the marker is complete`).toEqual(expected);
        return "complete";
      };

      const cases: { name: string; plan: Omit<KillPlan, "delayMs">; existing: boolean }[] = [
        { name: "new target, CLI killed mid-stream", plan: { phase: "mid-cat", victim: "cli" }, existing: false },
        { name: "new target, whole tree killed mid-stream", plan: { phase: "mid-cat", victim: "tree" }, existing: false },
        { name: "existing empty target, CLI killed mid-stream", plan: { phase: "mid-cat", victim: "cli" }, existing: true },
        { name: "new target, CLI killed after the stream", plan: { phase: "after-cat", victim: "cli" }, existing: false },
        { name: "existing empty target, CLI killed after the stream", plan: { phase: "after-cat", victim: "cli" }, existing: true },
        { name: "rclone cat killed mid-stream", plan: { phase: "mid-cat", victim: "rclone" }, existing: false },
      ];
      for (const [i, c] of cases.entries()) {
        const parent = path.join(w.root, `restores-${i}`);
        const target = path.join(parent, "target");
        await mkdir(c.existing ? target : parent, { recursive: true });
        const delayMs = Math.floor(rnd() * 300);
        const { res, killed } = await killedRun(w, ["backup", "restore", "--to", target], { ...c.plan, delayMs }, { env: SLOW });
        const what = `${c.name} (+${delayMs} ms): exit ${res.code ?? res.signal}\n${res.stderr}`;
        if (c.plan.phase === "mid-cat") expect(killed, what).toBe(true);
        if (c.plan.victim === "rclone") {
          expect(res.code, what).toBe(1);
          expect(res.stderr, what).toMatch(/killed by SIGKILL.*nothing was restored/s);
        }
        await expectNoRcloneLeft(w);
        const verdict = await judge(target, what);
        if (process.env.FAULTS_DEBUG) console.log(c.name, verdict, res.code ?? res.signal, await readdir(target).catch(() => "none"));
        if (c.plan.phase === "mid-cat") expect(verdict, what).not.toBe("complete");
        // A folder the restore creates appears only once complete; an existing empty one stays as it was.
        if (!c.existing) expect(verdict, `${what}: a new target appears only when complete`).not.toBe("empty");

        // The same command again (no --force: the killed restore's leftovers are its own) completes the job.
        if (verdict !== "complete") {
          ok(await w.cli("backup", "restore", "--to", target), `retry of ${what}`);
          expect(await readTree(path.join(target, "workspace")), `retry of ${what}`).toEqual(expected);
          expect(await exists(path.join(target, MARKER)), `retry of ${what}`).toBe(false);
        }
        expect(await stagingLeft(target), `no staging left in the target: ${what}`).toEqual([]);
        expect(await stagingLeft(parent), `no staging left beside the target: ${what}`).toEqual([]);
      }

      // Default target (under the state dir): a killed restore leaves nothing that looks like a restore.
      const { killed } = await killedRun(w, ["backup", "restore"], { phase: "mid-cat", victim: "cli", delayMs: 50 }, { env: SLOW });
      expect(killed).toBe(true);
      await expectNoRcloneLeft(w);
      const restoreRoot = path.join(w.stateDir, "workspace-sync", "restore");
      expect((await readdir(restoreRoot).catch(() => [] as string[])).filter((n) => !n.startsWith("."))).toEqual([]);
      const out = ok(await w.cli("backup", "restore"));
      expect((await readdir(restoreRoot)).filter((n) => !n.startsWith(".")).length).toBe(1);
      expect(await stagingLeft(restoreRoot), "the next restore removed the killed one's staging").toEqual([]);
      expect(out).toMatch(/^restored /m);
    } finally {
      await w.cleanup();
    }
  });

  it("backup restore from a local folder read directly (no rclone), killed at seeded moments: absent or complete; the retry succeeds", { timeout: 240_000 }, async () => {
    const s = await killWorld(local);
    const { w } = s;
    try {
      // ~50 MB more of incompressible data, so that the restore lasts long enough to be cut.
      await randomTree(path.join(w.workspace, "media"), { files: 2, minSize: 25_000_000, maxSize: 25_000_000, seed: 12 });
      ok(await w.cli("backup", "now"));
      const expected = await readTree(w.workspace);
      const rnd = seeded(123);
      for (let i = 0; i < 4; i++) {
        const parent = path.join(w.root, `direct-restores-${i}`);
        const target = path.join(parent, "target");
        await mkdir(parent, { recursive: true });
        const delayMs = 100 + Math.floor(rnd() * 900);
        const { res } = await killedRun(w, ["backup", "restore", "--to", target], { phase: "random", victim: i % 2 ? "tree" : "cli", delayMs });
        const what = `direct restore killed at +${delayMs} ms: exit ${res.code ?? res.signal}\n${res.stderr}`;
        const entries = await readdir(target).catch(() => undefined);
        // A new target appears only complete.
        if (entries !== undefined) expect(await readTree(path.join(target, "workspace")), what).toEqual(expected);
        else {
          ok(await w.cli("backup", "restore", "--to", target), `retry of ${what}`);
          expect(await readTree(path.join(target, "workspace")), `retry of ${what}`).toEqual(expected);
        }
        expect(await stagingLeft(parent), `no staging left beside the target: ${what}`).toEqual([]);
      }
    } finally {
      await w.cleanup();
    }
  });
});
