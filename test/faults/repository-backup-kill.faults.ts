// kill -9 of `backup now` writing the restic repository (backup.format "repository"), at seeded moments, hitting the
// CLI alone (its rclone child lives on until stdin closes), or the whole process tree. After every kill: restic 0.14
// finds the repository sound (`check --read-data`; at most unreferenced packs), `backup list` shows only complete
// snapshots, the next `backup now` succeeds without a manual step (the dead process's lock is removed as stale), and
// a restore of the newest snapshot is byte-identical to the workspace it was taken from.
import { randomBytes } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { randomTree, readTree, startServer, stopAll } from "../helpers/servers.js";
import { restic } from "../support/restic-oracle.js";
import { makeWorld } from "../support/world.js";
import { expectNoRcloneLeft, killedRun, type KillPlan, listOf, ok, seeded, SLOW } from "./lib/backup-kit.js";

const PASS = "repository kill passphrase 9e1d";
const stagedPacks = async (repoDir: string) => (await readdir(path.join(repoDir, "data"))).filter((n) => n.endsWith(".tmp"));
const TRIALS = Number(process.env.REPO_KILL_TRIALS ?? 10);
const SPOOL_TRIALS = Number(process.env.REPO_KILL_TRIALS ?? 4);
const FIRST_TRIALS = Number(process.env.REPO_KILL_TRIALS ?? 6);

describe("repository backup under kill -9", () => {
  afterAll(() => stopAll());

  it(`leaves a sound repository and a working next run (${TRIALS} seeded kills)`, async () => {
    const server = await startServer("local");
    const prefix = `repo-kill-${randomBytes(3).toString("hex")}`;
    const block = server.configBlock as unknown as Record<string, unknown>;
    const w = await makeWorld({ backup: { ...block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 3, format: "repository" } });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    await randomTree(w.workspace, { files: 40, maxSize: 200_000, seed: 23 });
    const repoDir = path.join(server.rootDir, prefix);
    const rnd = seeded(4242);
    ok(await w.cli("backup", "now", "-q"), "first backup");
    let committed = (await listOf(w)).snapshots.length;

    for (let n = 0; n < TRIALS; n++) {
      // Every trial brings new data (a new big file), so the killed run has packs to upload.
      await randomTree(path.join(w.workspace, `gen-${n}`), { files: 3, minSize: 1_500_000, maxSize: 4_000_000, seed: 100 + n });
      const victim: KillPlan["victim"] = rnd() < 0.5 ? "cli" : "tree";
      const delayMs = 150 + Math.floor(rnd() * 2500);
      const label = `trial ${n}: kill ${victim} after ${delayMs} ms`;
      const run = await killedRun(w, ["backup", "now"], { phase: "random", victim, delayMs }, { env: SLOW });
      await expectNoRcloneLeft(w, 30_000);
      // --no-lock: the killed run's lock is still there (restic 0.14 removes it only with `unlock`; our next run does).
      const check = await restic(["--no-lock", "check", "--read-data"], { repo: repoDir, password: PASS, check: false, timeoutMs: 300_000 });
      expect(check.code, `${label}: restic check after the kill\n${check.stdout}\n${check.stderr}`).toBe(0);
      const listed = await listOf(w);
      expect(listed.damaged, label).toEqual([]);
      expect(listed.snapshots.length, label).toBeGreaterThanOrEqual(Math.min(committed, 3));
      if (!run.killed) committed = listed.snapshots.length;

      // The next run needs no manual step: the killed run's lock belongs to a dead process on this host.
      const next = await w.cli("backup", "now", "--json");
      expect(next.code, `${label}: the next run\n${next.stderr}`).toBe(0);
      committed = (await listOf(w)).snapshots.length;
      const locks = await restic(["list", "locks", "--no-lock"], { repo: repoDir, password: PASS });
      expect(locks.stdout.trim(), `${label}: the dead run's lock was removed by the next run`).toBe("");
      const target = path.join(w.root, `restore-${n}`);
      ok(await w.cli("backup", "restore", "--to", target, "-q"), `${label}: restore latest`);
      expect(await readTree(path.join(target, "workspace")), `${label}: restore latest is byte-identical`).toEqual(await readTree(w.workspace));
    }
    const final = await restic(["check", "--read-data"], { repo: repoDir, password: PASS, timeoutMs: 300_000 });
    expect(final.code).toBe(0);
    // Packs a killed run was still writing stay staged (data/*.tmp, invisible to restic and to us); a prune removes them.
    console.log(`staged packs left by the killed runs: ${(await stagedPacks(repoDir)).length}`);
    ok(await w.cli("backup", "prune", "-q"), "prune after the kills");
    expect(await stagedPacks(repoDir)).toEqual([]);
    expect((await restic(["check", "--read-data"], { repo: repoDir, password: PASS, timeoutMs: 300_000 })).code).toBe(0);
    await w.cleanup();
  }, 1_800_000);
});

describe("first repository backup (the repository being made) under kill -9", () => {
  afterAll(() => stopAll());

  // A new repository is used before it is stored: the run reads and encodes while the key file and config are
  // written (Repository.initAhead), and everything else waits for them. A kill in those first seconds must leave
  // either nothing restic would call a repository part (no lock, index, snapshot or pack outside one) or a repository
  // restic checks clean; the next run makes or finishes it without a manual step.
  it(`leaves no repository part outside a repository, and the next run works (${FIRST_TRIALS} seeded kills)`, async () => {
    const server = await startServer("local");
    const rnd = seeded(777);
    for (let n = 0; n < FIRST_TRIALS; n++) {
      const prefix = `repo-first-kill-${n}-${randomBytes(3).toString("hex")}`;
      const block = server.configBlock as unknown as Record<string, unknown>;
      const w = await makeWorld({ backup: { ...block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 3, format: "repository" } });
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
      await randomTree(w.workspace, { files: 30, minSize: 200_000, maxSize: 1_500_000, seed: 300 + n });
      const repoDir = path.join(server.rootDir, prefix);
      const victim: KillPlan["victim"] = rnd() < 0.5 ? "cli" : "tree";
      const delayMs = 100 + Math.floor(rnd() * 1900);
      const label = `first-backup trial ${n}: kill ${victim} after ${delayMs} ms`;
      await killedRun(w, ["backup", "now"], { phase: "random", victim, delayMs });
      await expectNoRcloneLeft(w, 30_000);
      const names = async (sub: string) => readdir(path.join(repoDir, sub)).catch(() => [] as string[]);
      const dataFiles = async () => {
        const out: string[] = [];
        for (const d of await names("data")) out.push(...(d.endsWith(".tmp") ? [d] : await names(path.join("data", d))));
        return out;
      };
      const made = (await names(".")).includes("config");
      console.log(`${label}: ${made ? "repository stored" : "no config yet"}, ${(await dataFiles()).length} data file(s), ${(await names("keys")).length} key(s)`);
      if (!made) {
        for (const sub of ["locks", "index", "snapshots"]) expect(await names(sub), `${label}: ${sub}/ without a config`).toEqual([]);
        expect((await dataFiles()).filter((f) => !f.endsWith(".tmp")), `${label}: packs without a config`).toEqual([]);
        expect((await names("keys")).length, label).toBeLessThanOrEqual(1);
      } else {
        const check = await restic(["--no-lock", "check", "--read-data"], { repo: repoDir, password: PASS, check: false, timeoutMs: 300_000 });
        expect(check.code, `${label}: restic check after the kill\n${check.stdout}\n${check.stderr}`).toBe(0);
      }
      const next = await w.cli("backup", "now", "--json");
      expect(next.code, `${label}: the next run\n${next.stderr}`).toBe(0);
      const final = await restic(["check", "--read-data"], { repo: repoDir, password: PASS, check: false, timeoutMs: 300_000 });
      expect(final.code, `${label}: restic check after the next run\n${final.stdout}\n${final.stderr}`).toBe(0);
      const target = path.join(w.root, "restore");
      ok(await w.cli("backup", "restore", "--to", target, "-q"), `${label}: restore latest`);
      expect(await readTree(path.join(target, "workspace")), `${label}: restore latest is byte-identical`).toEqual(await readTree(w.workspace));
      await w.cleanup();
    }
  }, 1_200_000);
});

describe("repository backup over sftp (packs spooled on this disk) under kill -9", () => {
  afterAll(() => stopAll());

  it("leaves a sound repository; the next run works and clears what the killed one spooled", async () => {
    const server = await startServer("sftp");
    const prefix = `repo-spool-kill-${randomBytes(3).toString("hex")}`;
    const block = server.configBlock as unknown as Record<string, unknown>;
    const w = await makeWorld({ backup: { ...block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 3, format: "repository" } });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    await randomTree(w.workspace, { files: 20, maxSize: 200_000, seed: 29 });
    const repoDir = path.join(server.rootDir, prefix);
    const spool = path.join(w.stateDir, "workspace-sync", "backup-tmp", "spool");
    const rnd = seeded(99);
    ok(await w.cli("backup", "now", "-q"), "first backup");
    let spooledLeft = 0;
    for (let n = 0; n < SPOOL_TRIALS; n++) {
      await randomTree(path.join(w.workspace, `gen-${n}`), { files: 3, minSize: 1_500_000, maxSize: 4_000_000, seed: 300 + n });
      const delayMs = 300 + Math.floor(rnd() * 2500);
      const label = `trial ${n}: kill the tree after ${delayMs} ms`;
      await killedRun(w, ["backup", "now"], { phase: "random", victim: "tree", delayMs }, { env: SLOW });
      await expectNoRcloneLeft(w, 30_000);
      spooledLeft += (await readdir(spool).catch(() => [] as string[])).length;
      const check = await restic(["--no-lock", "check", "--read-data"], { repo: repoDir, password: PASS, check: false, timeoutMs: 300_000 });
      expect(check.code, `${label}: restic check after the kill\n${check.stdout}\n${check.stderr}`).toBe(0);
      const next = await w.cli("backup", "now", "--json");
      expect(next.code, `${label}: the next run\n${next.stderr}`).toBe(0);
      expect(await readdir(spool).catch(() => [] as string[]), `${label}: the next run cleared the spool folder`).toEqual([]);
      const target = path.join(w.root, `restore-${n}`);
      ok(await w.cli("backup", "restore", "--to", target, "-q"), `${label}: restore latest`);
      expect(await readTree(path.join(target, "workspace")), `${label}: restore latest is byte-identical`).toEqual(await readTree(w.workspace));
    }
    console.log(`spooled packs left by the killed runs: ${spooledLeft}`);
    await w.cleanup();
  }, 900_000);
});

describe("repository prune under kill -9", () => {
  afterAll(() => stopAll());

  it(`leaves a repository restic checks clean, and the next prune finishes the job (${TRIALS} seeded kills)`, async () => {
    const server = await startServer("local");
    const prefix = `repo-prune-kill-${randomBytes(3).toString("hex")}`;
    const block = server.configBlock as unknown as Record<string, unknown>;
    const w = await makeWorld({ backup: { ...block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 2, format: "repository" } });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    const repoDir = path.join(server.rootDir, prefix);
    const rnd = seeded(777);
    for (let n = 0; n < TRIALS; n++) {
      // Each round replaces the big files: what the forgotten snapshots held becomes garbage for prune.
      const { rm } = await import("node:fs/promises");
      await rm(w.workspace, { recursive: true, force: true });
      await randomTree(w.workspace, { files: 60, maxSize: 150_000, seed: 500 + n });
      await randomTree(path.join(w.workspace, "big"), { files: 2, minSize: 2_000_000, maxSize: 3_000_000, seed: 900 + n });
      ok(await w.cli("backup", "now", "-q"), `round ${n}: backup`);
      const expected = await readTree(w.workspace);
      const victim: KillPlan["victim"] = rnd() < 0.5 ? "cli" : "tree";
      const delayMs = Math.floor(rnd() * 1500);
      const label = `round ${n}: kill ${victim} of prune after ${delayMs} ms`;
      await killedRun(w, ["backup", "prune"], { phase: "random", victim, delayMs }, { env: SLOW });
      await expectNoRcloneLeft(w, 30_000);
      const check = await restic(["--no-lock", "check", "--read-data"], { repo: repoDir, password: PASS, check: false, timeoutMs: 300_000 });
      expect(check.code, `${label}: restic check after the kill\n${check.stdout}\n${check.stderr}`).toBe(0);
      ok(await w.cli("backup", "prune", "-q"), `${label}: the next prune`);
      const final = await restic(["check", "--read-data"], { repo: repoDir, password: PASS, check: false, timeoutMs: 300_000 });
      expect(final.code, `${label}: restic check after the next prune\n${final.stderr}`).toBe(0);
      const target = path.join(w.root, `prune-restore-${n}`);
      ok(await w.cli("backup", "restore", "--to", target, "-q"), `${label}: restore latest`);
      expect(await readTree(path.join(target, "workspace")), `${label}: restore latest is byte-identical`).toEqual(expected);
    }
    await w.cleanup();
  }, 1_800_000);
});
