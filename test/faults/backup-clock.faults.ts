// Fault case 9: a host clock far in the past (2001) or far in the future (2099). "Newest" is the last committed
// snapshot (the manifest's commit sequence), not the one whose clock said the latest time (docs/backup.md,
// Retention): retention never deletes the snapshot just committed nor the newest good one, and `restore latest`
// gives the last committed generation whatever the clocks said. The clock is faked with the engine's test hook
// WORKSPACE_SYNC_FAKE_NOW (src/backup/clock.ts); rclone and the filesystem keep the real time.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomTree, readTree, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { runCli } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";
import { expectNoOrphans, expectRestoreLatest, listOf, ok } from "./lib/backup-kit.js";

const PASS = "clock skew passphrase 0c3e";
const PAST = "2001-03-04T05:06:07Z";
const FUTURE = "2099-10-11T12:13:14Z";

describe("clock skew and retention", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("local");
  });
  afterAll(async () => {
    await stopAll();
  });

  async function world(retain: unknown): Promise<{ w: World; repo: string; repoDir: string; config: (retain: unknown) => unknown }> {
    const prefix = `clock-${randomBytes(3).toString("hex")}`;
    const config = (r: unknown) => ({ backup: { ...(server.configBlock as object), prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: r } });
    const w = await makeWorld(config(retain));
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    await randomTree(w.workspace, { files: 6, maxSize: 20_000, seed: 12 });
    return { w, repo: `cloud-backup:${server.remoteRoot}/${prefix}`, repoDir: path.join(server.rootDir, prefix), config };
  }

  /** The CLI with the engine's clock at `clock` (undefined = the real time). */
  const cliAt = (w: World, clock: string | undefined, ...args: string[]) => runCli(args, { env: clock ? { ...w.env, WORKSPACE_SYNC_FAKE_NOW: clock } : w.env });
  const json = <T>(stdout: string): T => JSON.parse(stdout.slice(stdout.indexOf("{"))) as T;

  /** One backup at `clock` of generation n; returns the new snapshot's name. */
  async function backupAt(w: World, n: number, clock: string | undefined, digests: Map<number, Record<string, string>>): Promise<string> {
    await writeFile(path.join(w.workspace, "marker.txt"), `generation ${n}`);
    digests.set(n, await readTree(w.workspace));
    const before = new Set((await listOf(w)).snapshots.map((s) => s.name));
    const out = json<{ snapshot: string }>(ok(await cliAt(w, clock, "backup", "now", "--json"), `backup at ${clock ?? "the real time"}`));
    expect(before.has(out.snapshot)).toBe(false);
    if (clock) expect(out.snapshot, "the clock hook took effect").toMatch(new RegExp(`^backup-${clock.slice(0, 4)}`));
    return out.snapshot;
  }

  it("backups in 2001 and 2099 between real-time ones: the newest committed snapshot always stays and is `latest`", { timeout: 150_000 }, async () => {
    const { w, repo, config } = await world(2);
    const digests = new Map<number, Record<string, string>>();
    try {
      const steps: (string | undefined)[] = [undefined, undefined, PAST, PAST, FUTURE, undefined, PAST, FUTURE];
      let previous: string | undefined;
      for (const [i, clock] of steps.entries()) {
        const name = await backupAt(w, i + 1, clock, digests);
        const list = await listOf(w);
        const names = list.snapshots.map((s) => s.name);
        const label = `step ${i + 1} (clock ${clock ?? "real"})`;
        // The snapshot just committed is kept and listed first; retain 2 keeps the one committed before it too.
        expect(names[0], label).toBe(name);
        if (previous) expect(names, label).toEqual([name, previous]);
        await expectRestoreLatest(w, digests.get(i + 1)!, label);
        await expectNoOrphans(w, repo, list, label);
        previous = name;
      }

      // `backup prune` with a wrong clock either way keeps the newest committed snapshot.
      await w.writeConfig(config(1));
      for (const clock of [PAST, FUTURE]) {
        const p = json<{ keep: { name: string; reasons: string[] }[] }>(ok(await cliAt(w, clock, "backup", "prune", "--json"), `prune at ${clock}`));
        expect(p.keep.map((k) => k.name)).toEqual([previous]);
        expect(p.keep[0]!.reasons).toContain("newest");
        expect((await listOf(w)).snapshots.map((s) => s.name)).toEqual([previous]);
        await expectRestoreLatest(w, digests.get(steps.length)!, `after prune at ${clock}`);
      }
    } finally {
      await w.cleanup();
    }
  });

  it("calendar retention (daily/monthly) across clocks in 2099 and 2001: the snapshot just committed is the one kept", { timeout: 120_000 }, async () => {
    const { w, repo } = await world({ daily: 1, monthly: 1 });
    const digests = new Map<number, Record<string, string>>();
    try {
      await backupAt(w, 1, FUTURE, digests);
      const real = await backupAt(w, 2, undefined, digests);
      // The 2099 snapshot is older by commit: it is not the newest, whatever its date says.
      expect((await listOf(w)).snapshots.map((s) => s.name)).toEqual([real]);
      await expectRestoreLatest(w, digests.get(2)!, "a real-time snapshot after a 2099 one");
      const past = await backupAt(w, 3, PAST, digests);
      expect((await listOf(w)).snapshots.map((s) => s.name)).toEqual([past]);
      await expectRestoreLatest(w, digests.get(3)!, "a 2001 snapshot committed last");
      await expectNoOrphans(w, repo, await listOf(w), "calendar retention");
    } finally {
      await w.cleanup();
    }
  });

  it("a leftover named by a writer whose clock was behind stays while its modification time is recent; a foreign one is never removed", { timeout: 120_000 }, async () => {
    const { w, repoDir } = await world(5);
    try {
      ok(await cliAt(w, undefined, "backup", "now"));
      // Another host sharing this state dir, its clock in 2001, is uploading: its object's name carries 2001, the
      // folder's listing says it was written just now. Beside it, a user's object of the same shape, never journaled.
      const behind = "backup-20010304T050607Z-0badc10c.tar.zst.age";
      const foreign = "backup-20010304T050607Z-f0e1d2c3.tar.zst.age";
      const foreignBytes = randomBytes(4096);
      await writeFile(path.join(repoDir, behind), randomBytes(4096));
      await writeFile(path.join(repoDir, foreign), foreignBytes);
      const stateFile = path.join(w.stateDir, "workspace-sync", "backup-state.json");
      const state = JSON.parse(await readFile(stateFile, "utf8")) as { pending: unknown[] };
      state.pending.push({ key: behind, format: "archive", host: "another-host", pid: 4242, at: new Date().toISOString() });
      await writeFile(stateFile, JSON.stringify(state), { mode: 0o600 });

      // Real clock, and a clock in 2001 (the name's date is older than either): the upload in progress stays.
      ok(await cliAt(w, undefined, "backup", "now"), "backup beside an upload in progress");
      ok(await cliAt(w, PAST, "backup", "now"), "backup in 2001 beside an upload in progress");
      expect(existsSync(path.join(repoDir, behind)), "an upload in progress is not a leftover, whatever its name says").toBe(true);

      // Once its modification time is older than the backup timeout and the grace period, its writer is gone.
      const old = new Date(Date.now() - 2 * 24 * 3600_000);
      await utimes(path.join(repoDir, behind), old, old);
      ok(await cliAt(w, undefined, "backup", "now"), "backup after the upload was abandoned");
      expect(existsSync(path.join(repoDir, behind)), "the abandoned upload of this install's journal is removed").toBe(false);
      expect(await readFile(path.join(repoDir, foreign)), "a foreign object is never touched").toEqual(foreignBytes);
    } finally {
      await w.cleanup();
    }
  });
});
