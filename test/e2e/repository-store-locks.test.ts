// restic-compatible locks, judged by restic 0.14: it sees ours, we see its, stale locks are handled alike.
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirStorage } from "../../src/backup/formats/repository/backend-dir.js";
import { RepositoryLockedError } from "../../src/backup/formats/repository/errors.js";
import { listLocks, staleness } from "../../src/backup/formats/repository/lock.js";
import { Repository } from "../../src/backup/formats/repository/repository.js";
import { rcloneEnv, stopAll, tempDir } from "../helpers/servers.js";
import { RESTIC_BIN, restic } from "../support/restic-oracle.js";

const PASSWORD = "lock password";
const FAST = { waitBeforeCheckMs: 200, unreadableRetryMs: [100] };

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => child.on("exit", r));
  return child.pid!;
}

describe("repository locks ⇄ restic 0.14", () => {
  let repoPath: string;
  let repo: Repository;
  beforeAll(async () => {
    repoPath = path.join(await tempDir("repo-locks"), "repo");
    repo = await Repository.init(new DirStorage(repoPath), PASSWORD, { kdf: { N: 1024, r: 8, p: 1 } });
  });
  afterAll(async () => {
    await repo.close();
    await stopAll();
  });
  const access = () => ({ storage: repo.storage, key: repo.key, version: repo.version });

  it("restic check fails while we hold an exclusive lock, and works after release", async () => {
    const lock = await repo.lock({ exclusive: true, timings: FAST });
    const blocked = await restic(["check"], { repo: repoPath, password: PASSWORD, check: false });
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toMatch(/already locked exclusively by PID \d+ on /);
    expect(blocked.stderr).toContain(`PID ${process.pid} on ${os.hostname()}`);
    await lock.release();
    expect((await restic(["check"], { repo: repoPath, password: PASSWORD })).code).toBe(0);
  });

  it("restic unlock probes our live lock with SIGHUP: we survive and the lock stays", async () => {
    const lock = await repo.lock({ exclusive: false, timings: FAST });
    await restic(["unlock"], { repo: repoPath, password: PASSWORD });
    expect((await listLocks(access())).map((l) => l.id)).toEqual([lock.id]);
    await lock.release();
    expect(await listLocks(access())).toEqual([]);
  });

  it("a lock of a dead process on this host is stale: restic unlock removes it, and we take over without manual steps", async () => {
    const pid = await deadPid();
    const doc = { time: new Date().toISOString(), exclusive: false, hostname: os.hostname(), username: "x", pid };
    const left = await repo.saveUnpacked("locks", JSON.stringify(doc));
    expect(staleness(doc)).toBe("dead-process");
    await restic(["unlock"], { repo: repoPath, password: PASSWORD });
    expect(await repo.storage.stat("locks", left)).toBeUndefined();

    // Left again (our own kill -9): an exclusive lock of ours removes it first, since its process is certainly gone.
    const again = await repo.saveUnpacked("locks", JSON.stringify({ ...doc, exclusive: true }));
    const lock = await repo.lock({ exclusive: true, timings: FAST });
    expect(await repo.storage.stat("locks", again)).toBeUndefined();
    await lock.release();
  });

  it("an expired lock of another host blocks with a message that says how to remove it; restic unlock does", async () => {
    const doc = { time: new Date(Date.now() - 3_600_000).toISOString(), exclusive: true, hostname: "elsewhere", username: "bob", pid: 4242 };
    const left = await repo.saveUnpacked("locks", JSON.stringify(doc));
    const err = await repo.lock({ exclusive: false, timings: FAST }).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(RepositoryLockedError);
    expect(err?.message).toMatch(/already locked exclusively by PID 4242 on elsewhere by bob, created at .* \(60 min ago\), lock file locks\/[0-9a-f]{8}\. The lock is older than 30 minutes.*restic unlock/);
    await restic(["unlock"], { repo: repoPath, password: PASSWORD });
    expect(await repo.storage.stat("locks", left)).toBeUndefined();
  });

  it("sees restic's lock: exclusive refused naming restic's pid, shared granted alongside it", async () => {
    // restic backup --stdin holds its shared lock while it waits for input.
    const env = rcloneEnv({ RESTIC_PASSWORD: PASSWORD });
    const child = spawn(RESTIC_BIN, ["-r", repoPath, "--no-cache", "backup", "--stdin", "--stdin-filename", "x.txt"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", r));
    try {
      const deadline = Date.now() + 30_000;
      while ((await listLocks(access())).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const locks = await listLocks(access());
      expect(locks.map((l) => l.lock.pid)).toEqual([child.pid]);
      const err = await repo.lock({ exclusive: true, timings: FAST }).then(() => undefined, (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(RepositoryLockedError);
      expect(err?.message).toContain(`by PID ${child.pid} on ${os.hostname()}`);
      expect(err?.message).toContain("Wait until that run finishes");
      const shared = await repo.lock({ exclusive: false, timings: FAST });
      await shared.release();
    } finally {
      child.stdin.end("hello from stdin\n");
    }
    expect(await exited).toBe(0);
    expect(stderr).not.toContain("locked");
  });

  it("two shared lockers at once (two repositories objects, as two installs would be), each released cleanly", async () => {
    const other = await Repository.open(new DirStorage(repoPath), PASSWORD);
    const [a, b] = await Promise.all([repo.lock({ exclusive: false, timings: FAST }), other.lock({ exclusive: false, timings: FAST })]);
    expect((await listLocks(access())).length).toBe(2);
    // An exclusive locker (restic check) is refused while either holds its lock.
    expect((await restic(["check"], { repo: repoPath, password: PASSWORD, check: false })).code).not.toBe(0);
    await Promise.all([a.release(), b.release()]);
    expect(await listLocks(access())).toEqual([]);
    await other.close();
  });

  it("refreshes by writing a new lock file and deleting the old one; a removed lock is lost and says so", async () => {
    const lock = await repo.lock({ exclusive: false, timings: { ...FAST, refreshMs: 60_000 } });
    const first = lock.id;
    await lock.refreshNow();
    expect(lock.id).not.toBe(first);
    expect((await listLocks(access())).map((l) => l.id)).toEqual([lock.id]);
    await restic(["unlock", "--remove-all"], { repo: repoPath, password: PASSWORD });
    await lock.refreshNow();
    expect(lock.signal.aborted).toBe(true);
    expect(String((lock.signal.reason as Error).message)).toMatch(/was removed by someone else/);
    await lock.release();
  });
});
