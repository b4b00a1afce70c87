// Fault case: the backup's sftp server hangs mid-transfer (connections stay open, nothing comes back; a proxy in
// front of it freezes). rclone sees no error and waits for its own 5-minute I/O timeouts, attempt after attempt; the
// stall watch notices the quiet call, asks the remote with a probe of its own, gets no answer either and stops it.
// Both directions of the archive format: the upload (`rclone rcat`) of `backup now` and the download (`rclone cat`)
// of `backup restore` end with exit 1 and "could not be reached" in about a minute and a half, not after
// backup.timeout (1 h).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { randomTree, startServer, stopAll } from "../helpers/servers.js";
import { startCli } from "../support/cli.js";
import { makeWorld } from "../support/world.js";
import { childrenOf, expectNoRcloneLeft, listOf, ok, waitFor } from "./lib/backup-kit.js";
import { freezeProxy } from "./lib/freeze-proxy.js";

const PASS = "hung server passphrase 5d0a";
const SLOW = { RCLONE_BWLIMIT: "2M" };
/** The watch's 45 s of quiet, the probe's 30 s at most, and room for a loaded machine. */
const BOUND_MS = 150_000;

afterAll(async () => {
  await stopAll();
});

const cmdOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
};

/** A world whose backup goes to the sftp server through a proxy that can freeze. */
async function hungWorld() {
  const server = await startServer("sftp");
  const proxy = await freezeProxy(server.port);
  const block = structuredClone(server.configBlock) as { custom: { rcloneOptions: Record<string, string> } };
  block.custom.rcloneOptions.port = String(proxy.port);
  const prefix = `hung-${randomBytes(3).toString("hex")}`;
  const w = await makeWorld({ backup: { ...(block as object), prefix, format: "archive", encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 3 } });
  await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
  await randomTree(w.workspace, { files: 5, maxSize: 50_000, seed: 5 });
  await randomTree(path.join(w.workspace, "big"), { files: 1, minSize: 8 << 20, maxSize: 8 << 20, seed: 11 });
  return {
    w,
    proxy,
    repoDir: path.join(server.rootDir, prefix),
    async dispose() {
      await w.cleanup();
      await proxy.close();
      await server.dispose();
    },
  };
}

function expectCleanStall(res: { code: number | null; stderr: string }, took: number) {
  expect(res.code, res.stderr).toBe(1);
  expect(res.stderr).toMatch(/could not be reached/);
  expect(res.stderr).not.toMatch(/^\s+at .+:\d+/m);
  expect(res.stderr).not.toContain(PASS);
  expect(took, "ended by the stall watch, well before backup.timeout").toBeLessThan(BOUND_MS);
}

/**
 * Runs the CLI with `args` (slowed down), waits until its `rclone <command>` is under way and `moving` holds, then
 * freezes the server under it. Returns the run's result and how long it took to end after the freeze.
 */
async function freezeDuring(h: Awaited<ReturnType<typeof hungWorld>>, args: string[], command: string, moving: () => Promise<boolean>) {
  const run = startCli(args, { env: { ...h.w.env, ...SLOW } });
  let ended = false;
  void run.done.then(() => (ended = true));
  const started = await waitFor(() => ended || childrenOf(run.child.pid!).some((pid) => cmdOf(pid).includes(` ${command} `)), 60_000, 5);
  expect(started && !ended, `rclone ${command} started`).toBe(true);
  expect(await waitFor(moving, 30_000), "bytes moved before the server hangs").toBe(true);
  expect(ended, "still transferring when the server hangs").toBe(false);
  h.proxy.freeze();
  const t0 = Date.now();
  const res = await run.done;
  return { res, took: Date.now() - t0 };
}

const MARKER = "WORKSPACE-SYNC-RESTORE-INCOMPLETE.txt";

describe.concurrent("the sftp server hangs mid-transfer (archive format)", () => {
  it("backup now: exit 1 in bounded time, clear error, failure recorded, nothing committed, no rclone left", { timeout: 240_000 }, async () => {
    const h = await hungWorld();
    try {
      // Some of the archive is on the server (sftp writes under the final name) before the server hangs.
      const { res, took } = await freezeDuring(h, ["backup", "now"], "rcat", async () => {
        for (const n of await readdir(h.repoDir).catch(() => [] as string[])) {
          if (n.startsWith("backup-") && !n.endsWith(".manifest.json") && ((await stat(path.join(h.repoDir, n)).catch(() => undefined))?.size ?? 0) > 0) return true;
        }
        return false;
      });
      expectCleanStall(res, took);
      await expectNoRcloneLeft(h.w);
      const status = JSON.parse(ok(await h.w.cli("backup", "status", "--json"))) as { state: { lastRun: { ok: boolean; error?: string } } };
      expect(status.state.lastRun.ok).toBe(false);
      expect(status.state.lastRun.error).toMatch(/no snapshot was committed.*could not be reached/);
    } finally {
      await h.dispose();
    }
  });

  it("backup restore: exit 1 in bounded time, clear error, no rclone left, nothing presented as restored", { timeout: 240_000 }, async () => {
    const h = await hungWorld();
    const target = path.join(await mkdtemp(path.join(os.tmpdir(), "hung-restore-")), "restored");
    try {
      ok(await h.w.cli("backup", "now"));
      expect((await listOf(h.w)).snapshots.length).toBe(1);
      const t1 = Date.now();
      const { res, took } = await freezeDuring(h, ["backup", "restore", "--to", target], "cat", async () => Date.now() - t1 > 1_500);
      expectCleanStall(res, took);
      await expectNoRcloneLeft(h.w);
      // A new target appears only complete: it is absent (or, at most, empty or marked incomplete).
      const left = await readdir(target).catch(() => undefined);
      expect(left === undefined || left.length === 0 || left.includes(MARKER), `the target holds ${JSON.stringify(left)}`).toBe(true);
    } finally {
      await rm(path.dirname(target), { recursive: true, force: true });
      await h.dispose();
    }
  });
});
