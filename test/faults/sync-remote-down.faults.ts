// Fault case 3: the remote goes away mid-transfer (the sftp server or the S3 server is killed while rclone is
// copying). The run must fail with exit 1 and a message a user can act on (no stack, no secret), `status --json`
// must show the failure, and once the server is back (same port, same data) the next run must complete without
// any manual step, leaving the remote equal to the workspace.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { runCli, startCli } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";
import { dropTornS3Objects, expectCleanError, localFiles, rcloneOf, remoteFiles, seedRemote, sleep, waitFor } from "./lib/sync-kit.js";
import { mkdir, writeFile } from "node:fs/promises";
import net from "node:net";

const MB = 1024 * 1024;

function tree(prefix: string, n: number, bigMb: number): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) out[`${prefix}${i % 2 ? "deep/" : ""}f${i}.txt`] = Buffer.from(`${prefix}${i}\n`.repeat(50 + i * 20));
  out[`${prefix}big.bin`] = Buffer.alloc(bigMb * MB, prefix.charCodeAt(0));
  return out;
}

async function writeAll(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), body);
  }
}

const digest = (t: Record<string, Buffer>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, sha256(v)]));

interface StatusJson {
  sync: { lastRun?: { ok: boolean; error?: string; trigger: string } };
}

async function statusJson(w: World): Promise<StatusJson> {
  const res = await w.cli("status", "--json");
  const report = JSON.parse(res.stdout) as StatusJson & { exitCode: number };
  // 1 while the last sync failed (it needs attention), 0 once a sync went through again; never a crash
  expect(res.code, res.stderr).toBe(report.exitCode);
  expect(res.code).not.toBe(2);
  return report;
}

/** Runs `sync`, kills the server once rclone `sub` (with `arg`) has run for `afterMs`, returns the failed run. */
async function syncWhileServerStops(w: World, server: TestServer, sub: string, arg: string, afterMs: number) {
  const run = startCli(["sync"], { env: w.env });
  let ended = false;
  void run.done.then(() => (ended = true));
  const seen = await waitFor(() => ended || rcloneOf(w.root, sub).find((p) => p.argv.some((a) => a.includes(arg))), 30_000, 5);
  expect(seen && seen !== true, `rclone ${sub} ${arg} started`).toBeTruthy();
  await sleep(afterMs);
  expect(ended, "the run was still going when the server stopped").toBe(false);
  await server.kill(); // a crash: connections drop mid-request
  return run.done;
}

describe("remote down mid-transfer", () => {
  let sftp: TestServer;
  let s3: TestServer;
  beforeAll(async () => {
    [sftp, s3] = await Promise.all([startServer("sftp"), startServer("s3")]);
  });
  afterAll(async () => {
    await stopAll();
  });

  it("sftp server killed during the mailbox drain: exit 1, clear error, recorded; the next run after restart drains everything once", async () => {
    const folder = "down-mbx";
    const w = await makeWorld({ sync: { ...sftp.configBlock, mode: "mailbox", remotePath: folder } }, { RCLONE_BWLIMIT: "4M" });
    try {
      const ws = tree("w/", 8, 1);
      const outbox = tree("o/", 6, 4);
      await writeAll(w.workspace, ws);
      await seedRemote(sftp, `${folder}/_outbox`, outbox);
      const res = await syncWhileServerStops(w, sftp, "copy", "incoming", 400);
      expect(res.code, res.stderr).toBe(1);
      expectCleanError(res.stderr, [(sftp as unknown as { password: string }).password]);
      expect(res.stderr).toMatch(/could not be reached/);
      // What arrived before the crash is whole; nothing half-copied is presented as arrived.
      const early = await localFiles(path.join(w.workspace, "_inbox"));
      for (const [rel, sha] of Object.entries(early)) expect(sha, `${rel} in _inbox is whole`).toBe(digest(outbox)[rel]);

      await sftp.restart();
      // The failure is recorded for every process to see (status is read once the server is back: its own
      // reachability probe would otherwise wait out rclone's retries).
      const status = await statusJson(w);
      expect(status.sync.lastRun?.ok).toBe(false);
      expect(status.sync.lastRun?.error).toMatch(/could not be reached/);
      // Every outbox file that has not arrived is still on the remote (nothing deleted before it landed).
      const left = Object.keys(await remoteFiles(sftp, `${folder}/_outbox`));
      for (const rel of Object.keys(outbox)) expect(left.includes(rel) || rel in early, `${rel} is somewhere`).toBe(true);
      const again = await runCli(["sync"], { env: { ...w.env, RCLONE_BWLIMIT: "0" } });
      expect(again.code, again.stderr).toBe(0);
      expect(await localFiles(path.join(w.workspace, "_inbox"))).toEqual(digest(outbox));
      const remote = await remoteFiles(sftp, folder);
      expect(Object.fromEntries(Object.entries(remote).filter(([p]) => !p.startsWith("_outbox/")))).toEqual(digest(ws));
      expect((await statusJson(w)).sync.lastRun?.ok).toBe(true);
    } finally {
      await sftp.restart().catch(() => {});
      await w.cleanup();
    }
  });

  it("S3 server killed during the push: exit 1, clear error, no secret; after restart the remote equals the workspace", async () => {
    const folder = "down-s3";
    const w = await makeWorld({ sync: { ...s3.configBlock, mode: "mirror", remotePath: folder } }, { RCLONE_BWLIMIT: "4M" });
    try {
      const ws = tree("w/", 10, 6);
      await writeAll(w.workspace, ws);
      const res = await syncWhileServerStops(w, s3, "sync", folder, 500);
      expect(res.code, res.stderr).toBe(1);
      expectCleanError(res.stderr, ["S3RVER"]);
      expect(res.stderr).toMatch(/could not be reached/);
      await dropTornS3Objects(s3);
      await s3.restart();
      const status = await statusJson(w);
      expect(status.sync.lastRun?.ok).toBe(false);
      expect(status.sync.lastRun?.error).toMatch(/could not be reached/);
      const again = await runCli(["sync"], { env: { ...w.env, RCLONE_BWLIMIT: "0" } });
      expect(again.code, again.stderr).toBe(0);
      const remote = await remoteFiles(s3, folder);
      expect(Object.fromEntries(Object.entries(remote).filter(([p]) => !p.startsWith(".workspace-sync-trash/")))).toEqual(digest(ws));
      expect((await statusJson(w)).sync.lastRun?.ok).toBe(true);
    } finally {
      await s3.restart().catch(() => {});
      await w.cleanup();
    }
  });

  it("remote already down when the run starts: exit 1 at once with a clear error, nothing changed locally", async () => {
    const folder = "down-start";
    const w = await makeWorld({ sync: { ...sftp.configBlock, mode: "mailbox", remotePath: folder } });
    try {
      await writeAll(w.workspace, tree("w/", 3, 0));
      const before = await localFiles(w.workspace);
      await sftp.kill();
      const res = await w.cli("sync");
      expect(res.code).toBe(1);
      expectCleanError(res.stderr, [(sftp as unknown as { password: string }).password]);
      expect(res.stderr).toMatch(/could not be reached/);
      expect(await localFiles(w.workspace)).toEqual({ ...before });
      await sftp.restart();
      const again = await w.cli("sync");
      expect(again.code, again.stderr).toBe(0);
    } finally {
      await sftp.restart().catch(() => {});
      await w.cleanup();
    }
  });

  // A hung server, or a proxy whose backend is gone: the TCP connection is accepted and then nothing comes back.
  // rclone waits without a word (no stats, no error) for minutes; the stall watch's probe gets no answer either and
  // the run ends with the usual error after ~45 s of quiet plus the probe's 30 s, not after the 30-minute timeout.
  it("a server that accepts connections and never answers: exit 1 in bounded time, clear error, no rclone left", async () => {
    const held: net.Socket[] = [];
    const pit = net.createServer((sock) => {
      held.push(sock);
      sock.on("error", () => {});
    });
    await new Promise<void>((r) => pit.listen(0, "127.0.0.1", r));
    const port = (pit.address() as net.AddressInfo).port;
    const password = "pit-password-not-used";
    const block = {
      provider: "custom",
      custom: { rcloneType: "sftp", rcloneOptions: { host: "127.0.0.1", port: String(port), user: "u", pass: password, shell_type: "unix", md5sum_command: "md5sum", sha1sum_command: "sha1sum" } },
    };
    const w = await makeWorld({ sync: { ...block, mode: "mailbox", remotePath: "pit" } });
    try {
      await writeAll(w.workspace, tree("w/", 3, 0));
      const before = await localFiles(w.workspace);
      const started = Date.now();
      const res = await w.cli("sync");
      const took = Date.now() - started;
      expect(res.code, res.stderr).toBe(1);
      expectCleanError(res.stderr, [password]);
      expect(res.stderr).toMatch(/could not be reached/);
      expect(took, "ended by the stall watch, well before the run's timeout").toBeLessThan(150_000);
      expect(await localFiles(w.workspace)).toEqual({ ...before });
      const left = await waitFor(() => rcloneOf(w.root).length === 0, 5_000);
      expect(left, `no rclone (transfer or probe) outlives the run: ${JSON.stringify(rcloneOf(w.root))}`).toBe(true);
      const status = await statusJson(w);
      expect(status.sync.lastRun?.ok).toBe(false);
      expect(status.sync.lastRun?.error).toMatch(/could not be reached/);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => pit.close(r));
      await w.cleanup();
    }
  }, 240_000);
});
