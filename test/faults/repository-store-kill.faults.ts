// kill -9 of a process writing a restic-format repository through rclone, at seeded points (mid-blobs, mid-flush,
// right after the flush, at a random moment): afterwards no partial snapshot exists, restic 0.14 finds the
// repository sound (`check --read-data`: at most unreferenced packs, a hint), the rclone child did not outlive its
// parent, and the next run — taking the lock the killed one left — succeeds without a manual step.
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DirStorage } from "../../src/backup/formats/repository/backend-dir.js";
import { Repository } from "../../src/backup/formats/repository/repository.js";
import { RcloneStorage, STAGING_FOLDER } from "../../src/backup/formats/repository/backend.js";
import { BackendError } from "../../src/backup/formats/repository/errors.js";
import { findRclone } from "../../src/rclone/binary.js";
import { atLeast } from "../../src/rclone/version.js";
import { prng, rcloneEnv, startLocalRemote, startServer, stopAll, tempDir, writeRcloneConf } from "../helpers/servers.js";
import { testEnv } from "../support/cli.js";
import { restic } from "../support/restic-oracle.js";

const PASSWORD = "kill password";
const WRITER = path.join(import.meta.dirname, "repository-store-writer.mjs");

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  rclonePids: number[];
}

/** `killWhen` answers true (kill now) or a delay in ms (kill that much later). */
function runWriter(args: object, killWhen?: (line: string, elapsedMs: number) => boolean | number, killAfterMs?: number): Promise<RunResult> {
  const child = spawn(process.execPath, [WRITER, JSON.stringify(args)], { env: testEnv(), stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const rclonePids: number[] = [];
  const started = Date.now();
  let stderr = "";
  const kill = () => child.exitCode === null && child.kill("SIGKILL");
  const timer = killAfterMs !== undefined ? setTimeout(kill, killAfterMs) : undefined;
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n").filter(Boolean)) {
      lines.push(line);
      const m = /^rclone (\d+)$/.exec(line);
      if (m) rclonePids.push(Number(m[1]));
      const when = killWhen?.(line, Date.now() - started);
      if (when === true) kill();
      else if (typeof when === "number") setTimeout(kill, when);
    }
  });
  return new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal === null) lines.push(`stderr: ${stderr}`);
      resolve({ code, signal, lines, rclonePids });
    }),
  );
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("repository writer faults: kill -9, remote down", () => {
  afterAll(() => stopAll());

  it("leaves a repository restic checks clean and the next run completes", async () => {
    const server = await startLocalRemote();
    const conf = path.join(await tempDir("kill-conf"), "rclone.conf");
    await writeRcloneConf(conf, { remote: server.rcloneSection });
    const repoDir = path.join(server.rootDir, "repo");
    const init = await Repository.init(new DirStorage(repoDir), PASSWORD);
    await init.close();
    const base = { conf, remotePath: server.remotePath("repo"), password: PASSWORD, blobs: 40 };
    const rnd = prng(1313);
    const plans: { label: string; when?: (l: string, ms: number) => boolean; afterMs?: number }[] = [
      { label: "after the lock", when: (l) => l === "locked" },
      { label: "mid-blobs", when: (l) => l === `blob ${4 * Math.floor(rnd() * 9)}` },
      { label: "mid-flush", when: (l) => l === "flushing" },
      { label: "after the flush, before the snapshot", when: (l) => l === "flushed" },
      { label: "random moment", afterMs: 300 + Math.floor(rnd() * 2500) },
      { label: "random moment", afterMs: 300 + Math.floor(rnd() * 2500) },
    ];
    let snapshots = 0;
    for (const [n, plan] of plans.entries()) {
      const killed = await runWriter({ ...base, seed: n }, plan.when, plan.afterMs);
      expect(killed.signal === "SIGKILL" || killed.code === 0, `${plan.label}: ${killed.lines.join(" | ")}`).toBe(true);
      // The rclone child ends with its parent (its stdin closes).
      const deadline = Date.now() + 10_000;
      while (killed.rclonePids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(killed.rclonePids.filter(alive), plan.label).toEqual([]);

      // restic: only complete snapshots; data sound (a lock of the dead writer blocks check, so unlock first).
      const opts = { repo: repoDir, password: PASSWORD };
      const listed = JSON.parse((await restic(["snapshots", "--json"], opts)).stdout) as unknown[];
      // The killed run's snapshot exists only if its upload finished before the kill (a kill right after the flush
      // can land either side of it); restic loads every listed snapshot, so none is partial.
      expect([snapshots, snapshots + 1], plan.label).toContain(listed.length);
      snapshots = listed.length;
      await restic(["unlock"], opts);
      const check = await restic(["check", "--read-data"], { ...opts, check: false });
      expect(check.code, `${plan.label}:\n${check.stdout}\n${check.stderr}`).toBe(0);

      // The next run works without any manual step (we did unlock for restic above; the writer would remove a
      // dead local lock itself anyway — the lock tests prove that).
      const next = await runWriter({ ...base, seed: 100 + n });
      expect(next.code, next.lines.join(" | ")).toBe(0);
      snapshots++;
    }
    const final = await restic(["check", "--read-data"], { repo: repoDir, password: PASSWORD });
    expect(final.stdout).toContain("no errors were found");
  });

  it("a writer killed while its snapshot is uploading leaves no truncated snapshot (rclone 1.60 writes in place: staged, then moved)", async () => {
    const server = await startLocalRemote();
    const conf = path.join(await tempDir("kill-conf3"), "rclone.conf");
    await writeRcloneConf(conf, { remote: server.rcloneSection });
    const repoDir = path.join(server.rootDir, "repo");
    await (await Repository.init(new DirStorage(repoDir), PASSWORD)).close();
    const base = { conf, remotePath: server.remotePath("repo"), password: PASSWORD, blobs: 4, bigSnapshot: 24_000_000 };
    const opts = { repo: repoDir, password: PASSWORD };
    let snapshots = 0;
    const spoolDir = path.join(await tempDir("kill-spool"), "spool");
    const staged = !atLeast((await findRclone()).version, 1, 63);
    // With a spool folder the staged saves are moved into place by the session's own rclone (its remote control),
    // without one by an `rclone moveto` each.
    for (const [delay, spool] of [[5, true], [30, false], [80, true], [150, false], [300, true]] as const) {
      // Killed a little after the upload starts (the line is printed right before it).
      const killed = await runWriter({ ...base, seed: delay, ...(spool ? { spoolDir } : {}) }, (l) => (l === "saving snapshot" ? delay : false));
      expect(killed.signal === "SIGKILL" || killed.code === 0, killed.lines.join(" | ")).toBe(true);
      const deadline = Date.now() + 10_000;
      while (killed.rclonePids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const listed = JSON.parse((await restic(["snapshots", "--json"], opts)).stdout) as unknown[];
      expect([snapshots, snapshots + 1], `kill ${delay} ms into the upload`).toContain(listed.length);
      if (killed.code === 0) expect(killed.lines).toContain(`moved in process ${spool && staged ? 2 : 0}`);
      snapshots = listed.length;
      await restic(["unlock"], opts);
      const check = await restic(["check"], { ...opts, check: false });
      expect(check.code, `kill ${delay} ms into the upload:\n${check.stdout}\n${check.stderr}`).toBe(0);
    }
    // A prune (exclusive lock) clears what the killed writers left staged.
    const repo = await Repository.open(new RcloneStorage({ bin: await findRclone(), configPath: conf, remotePath: base.remotePath, env: rcloneEnv() }), PASSWORD);
    await repo.storage.removeStaged?.();
    await repo.close();
    const left = await readdir(path.join(repoDir, STAGING_FOLDER)).catch(() => []);
    expect(left).toEqual([]);
  });

  it("a dead writer's lock is taken over by the next run without restic unlock", async () => {
    const server = await startLocalRemote();
    const conf = path.join(await tempDir("kill-conf2"), "rclone.conf");
    await writeRcloneConf(conf, { remote: server.rcloneSection });
    const repoDir = path.join(server.rootDir, "repo");
    await (await Repository.init(new DirStorage(repoDir), PASSWORD)).close();
    const base = { conf, remotePath: server.remotePath("repo"), password: PASSWORD, blobs: 20 };
    const killed = await runWriter({ ...base, seed: 1 }, (l) => l === "locked");
    expect(killed.signal).toBe("SIGKILL");
    // An exclusive locker (a prune of ours) removes the dead process's lock by itself.
    const repo = await Repository.open(new DirStorage(repoDir), PASSWORD);
    const lock = await repo.lock({ exclusive: true });
    await lock.release();
    expect((await restic(["check"], { repo: repoDir, password: PASSWORD })).code).toBe(0);
  });

  it("a remote that goes down mid-run fails the write in bounded time, naming rclone's reason; nothing partial is indexed", async () => {
    const server = await startServer("sftp");
    const conf = path.join(await tempDir("down-conf"), "rclone.conf");
    await writeRcloneConf(conf, { remote: server.rcloneSection });
    const storage = new RcloneStorage({ bin: await findRclone(), configPath: conf, remotePath: server.remotePath("repo"), env: rcloneEnv() });
    const repo = await Repository.init(storage, PASSWORD, { kdf: { N: 1024, r: 8, p: 1 }, packSize: 256 * 1024 });
    await repo.saveBlob("data", Buffer.from("before the outage"));
    await repo.flush();
    await server.kill();
    const started = Date.now();
    const failed = await (async () => {
      for (let i = 0; i < 8; i++) await repo.saveBlob("data", Buffer.from(`blob ${i} `.repeat(40_000)));
      await repo.flush();
    })().then(() => undefined, (e: unknown) => e as BackendError);
    expect(failed).toBeInstanceOf(BackendError);
    expect(failed?.message).toMatch(/storing data\/[0-9a-f]{64} on remote:repo failed: rclone answered HTTP 500: .*(connect|dial|refused)/i);
    expect(Date.now() - started).toBeLessThan(170_000);
    await repo.close();
    await server.restart();
    // The repository is as it was before the outage: one index file, naming only complete packs.
    const check = await restic(["check", "--read-data"], { repo: `rclone:${server.remotePath("repo")}`, password: PASSWORD, env: { RCLONE_CONFIG: conf } });
    expect(check.stdout).toContain("no errors were found");
  });
});
