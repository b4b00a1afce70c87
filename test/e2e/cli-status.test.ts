// `status` for scripts and monitoring: exit 1 with a `needsAttention` list whenever something needs a person
// (rclone missing, remote unreachable, last sync or backup failed, a dry run as the only run, config problems: 2),
// the same facts in --json, and "next sync"/"next backup" only when something will actually run them.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend, type StartedBackend } from "../support/backends.js";
import { runCli } from "../support/cli.js";
import { writeTree } from "../support/tree.js";
import { makeWorld, type World } from "../support/world.js";

interface Status {
  needsAttention: string[];
  exitCode: number;
  warnings: string[];
  sync: { nextRun?: string; nextRunBy?: string; reachable?: boolean };
  backup: { nextRun?: string; lastRun?: { ok: boolean } };
  scheduler: { service: { alive: boolean } };
}

async function status(w: World, extraEnv: NodeJS.ProcessEnv = {}) {
  const text = await runCli(["status"], { env: { ...w.env, ...extraEnv } });
  const json = await runCli(["status", "--json"], { env: { ...w.env, ...extraEnv } });
  const parsed = JSON.parse(json.stdout) as Status;
  // the text and the JSON form agree on the outcome
  expect(json.code).toBe(text.code);
  expect(parsed.exitCode).toBe(text.code);
  return { code: text.code, text: text.stdout, stderr: text.stderr, json: parsed };
}

async function heartbeat(w: World, beatAt: Date, nextRunAt: Date): Promise<void> {
  const dir = path.join(w.stateDir, "workspace-sync");
  await mkdir(dir, { recursive: true });
  // this test process stands in for the gateway: a live pid on this host
  const beat = { pid: process.pid, host: os.hostname(), startedAt: beatAt.toISOString(), beatAt: beatAt.toISOString(), sync: { intervalS: 300, nextRunAt: nextRunAt.toISOString() } };
  await writeFile(path.join(dir, "service-heartbeat.json"), JSON.stringify(beat));
}

/** An sftp remote on a port nothing listens on: valid config, every call fails at once (connection refused). */
const DEAD_SFTP = { rcloneType: "sftp", rcloneOptions: { host: "127.0.0.1", port: 1, user: "nobody", key_file: "/nonexistent-key" } };

describe("status for scripts and monitoring", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => server?.stop());

  it("all well → 0; a dry run as the only run, a failed sync, missing rclone → 1 with what needs attention", async () => {
    const w = await makeWorld({ sync: { ...server.block, mode: "mirror", remotePath: "st", interval: 300 } });
    try {
      await writeTree(w.workspace, { "a.txt": "a" });
      const never = await status(w);
      expect(never.code).toBe(1);
      expect(never.json.needsAttention).toEqual([expect.stringMatching(/^no sync has run yet/)]);

      expect((await w.cli("sync", "--dry-run")).code).toBe(0);
      const dry = await status(w);
      expect(dry.code).toBe(1);
      expect(dry.json.needsAttention).toEqual([expect.stringMatching(/last run was only a dry run/)]);
      expect(dry.text).toMatch(/last sync: \S+ dry run only/);
      expect(dry.stderr).toMatch(/^workspace-sync: 1 thing\(s\) need attention: no sync has run yet/);

      expect((await w.cli("sync")).code).toBe(0);
      const ok = await status(w);
      expect(ok.code, ok.text).toBe(0);
      expect(ok.json.needsAttention).toEqual([]);
      expect(ok.text).toMatch(/^all well$/m);
      // interval 300 is configured, but nothing here runs it: no "next sync", and a warning that says so
      expect(ok.json.sync.nextRun).toBeUndefined();
      expect(ok.text).not.toMatch(/next sync/);
      expect(ok.json.warnings).toContainEqual(expect.stringMatching(/nothing runs the configured intervals/));

      // a sync that fails at run time (an sftp server that is not there: the config itself is valid): recorded, and
      // status says so
      await w.writeConfig({ sync: { provider: "custom", custom: DEAD_SFTP, mode: "mirror", remotePath: "x" } });
      expect((await w.cli("sync")).code).toBe(1);
      const failed = await status(w);
      expect(failed.code).toBe(1);
      expect(failed.json.needsAttention).toContainEqual(expect.stringMatching(/^the last sync failed \(/));
      expect(failed.text).toMatch(/last sync: \S+ FAILED: /);

      // no rclone on PATH
      await w.writeConfig({ sync: { ...server.block, mode: "mirror", remotePath: "st" } });
      const noRclone = await status(w, { PATH: "/nonexistent" });
      expect(noRclone.code).toBe(1);
      expect(noRclone.json.needsAttention).toContainEqual(expect.stringMatching(/^rclone is not available: rclone was not found on PATH/));
    } finally {
      await w.cleanup();
    }
  });

  it("the last backup by the short ID that backup list shows (the whole ID in --json)", async () => {
    const w = await makeWorld({ backup: { ...server.block, prefix: "st-ok", format: "repository", encrypt: true, passphrase: "status-test-passphrase", include: ["workspace"] } });
    try {
      await writeTree(w.workspace, { "a.txt": "a" });
      const made = JSON.parse((await w.cli("backup", "now", "--json")).stdout) as { snapshot: string; short_id: string };
      expect(made.snapshot).toMatch(/^[0-9a-f]{64}$/);
      const s = await status(w);
      expect(s.text).toMatch(new RegExp(`^last backup: \\S+ ok: snapshot ${made.short_id}$`, "m"));
      expect(s.text).not.toContain(made.snapshot);
      expect((s.json.backup.lastRun as { detail?: string }).detail).toBe(made.snapshot);
    } finally {
      await w.cleanup();
    }
  });

  it("an unreachable remote and a failed backup need attention; an invalid config is exit 2", async () => {
    const sftp = await backend("sftp").start();
    // the backup goes to an sftp server that is not there: every backup fails at run time (validation cannot know)
    const w = await makeWorld({
      sync: { ...sftp.block, mode: "mirror", remotePath: "gone", interval: 0 },
      backup: { enabled: true, provider: "custom", custom: DEAD_SFTP, remoteName: "dead-backup", encrypt: false, include: ["workspace"] },
    });
    try {
      await writeTree(w.workspace, { "a.txt": "a" });
      expect((await w.cli("sync")).code).toBe(0);
      await sftp.server.stop();
      expect((await w.cli("backup", "now")).code).toBe(1);
      const s = await status(w);
      expect(s.code).toBe(1);
      expect(s.json.sync.reachable).toBe(false);
      expect(s.json.needsAttention).toEqual(
        expect.arrayContaining([expect.stringMatching(/^the sync remote .* cannot be reached/), expect.stringMatching(/^the last backup failed \(/)]),
      );
      expect(s.text).toMatch(/last backup: \S+ FAILED: /);

      await w.writeConfig({ sync: { ...sftp.block, mode: "sideways" } });
      const bad = await status(w);
      expect(bad.code).toBe(2);
      expect(bad.json.needsAttention).toContainEqual(expect.stringMatching(/config problem/));
    } finally {
      await w.cleanup();
      await sftp.stop();
    }
  });

  it("'next sync' only while the gateway's service is alive (its heartbeat), not after it went away", async () => {
    const w = await makeWorld({ sync: { ...server.block, mode: "mirror", remotePath: "hb", interval: 300 } });
    try {
      await writeTree(w.workspace, { "a.txt": "a" });
      expect((await w.cli("sync")).code).toBe(0);
      const next = new Date(Date.now() + 120_000);
      await heartbeat(w, new Date(), next);
      const alive = await status(w);
      expect(alive.code, alive.text).toBe(0);
      expect(alive.json.scheduler.service.alive).toBe(true);
      expect(alive.json.sync).toMatchObject({ nextRun: next.toISOString(), nextRunBy: "gateway service" });
      expect(alive.text).toContain(`next sync: ${next.toISOString()} (gateway service)`);

      await heartbeat(w, new Date(Date.now() - 600_000), next);
      const gone = await status(w);
      expect(gone.json.scheduler.service.alive).toBe(false);
      expect(gone.json.sync.nextRun).toBeUndefined();
      expect(gone.json.warnings).toContainEqual(expect.stringMatching(/service was last seen .*nothing runs the configured intervals now/));
    } finally {
      await w.cleanup();
    }
  });
});
