// Fault case 4 (sync side): the workspace disk fills up while a mailbox drain or a mirror ingest writes into it.
// The workspace lives on a small tmpfs; a filler file leaves less room than the arriving file needs. The run
// must fail with exit 1 and say in plain words that the disk is full, must not delete the remote file, and must
// leave no partial file that looks complete (in _inbox, the ingest folder or staging). Once space is freed, the
// next run brings the file in whole. Needs root for mount(8); without it the cases skip and say why.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { makeWorld, type World } from "../support/world.js";
import { expectCleanError, localFiles, remoteFiles, seedRemote } from "./lib/sync-kit.js";

const KB = 1024;
const MB = 1024 * KB;
const TMPFS_SIZE = "4m";

let mountPoint: string | undefined;
let skipReason = "";

/** A fresh small tmpfs for one case (a full disk must not leak from one case into the next). */
async function mountTmpfs(): Promise<string | undefined> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "wsync-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_SIZE},mode=0755`, "tmpfs", dir], { stdio: "pipe" });
    return dir;
  } catch (err) {
    skipReason = `disk-full cases need a small tmpfs, and \`mount -t tmpfs\` failed (${(err as Error).message.split("\n")[0]}): run the fault suite as root`;
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
}

async function unmount(dir: string | undefined): Promise<void> {
  if (!dir) return;
  try {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
  } catch {
    // already gone
  }
  await rm(dir, { recursive: true, force: true });
}

function freeBytes(dir: string): number {
  const out = execFileSync("df", ["-B1", "--output=avail", dir], { encoding: "utf8" });
  return Number(out.trim().split("\n").pop());
}

const body = (size: number, seed: number) => Buffer.alloc(size, seed);

// rclone preallocates local files (fallocate), so usually it refuses before writing a byte; without preallocation
// (RCLONE_LOCAL_NO_PREALLOCATE, or a file system without fallocate) the write itself fails half-way.
describe.each([
  { how: "preallocation refused", env: {} },
  { how: "write fails half-way", env: { RCLONE_LOCAL_NO_PREALLOCATE: "true" } },
])("disk full on the workspace side ($how)", ({ env }) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("local");
  });

  async function worldOnTmpfs(ctx: { skip: () => void }, sync: Record<string, unknown>): Promise<World | undefined> {
    mountPoint = await mountTmpfs();
    if (!mountPoint) {
      console.warn(`skipped: ${skipReason}`);
      ctx.skip();
      return undefined;
    }
    const w = await makeWorld({ sync: { ...server.configBlock, ...sync } }, { OPENCLAW_WORKSPACE_DIR: mountPoint, ...env });
    // The filler takes most of the disk: what is left is less than the big arrival needs.
    await writeFile(path.join(mountPoint, "filler.bin"), body(2.5 * MB, 1));
    return w;
  }

  it("mailbox drain: ENOSPC → exit 1 saying the disk is full, the outbox file stays, no partial file; after freeing space it arrives whole", async (ctx) => {
    const folder = `full-mbx-${Object.keys(env).length}`;
    const w = await worldOnTmpfs(ctx, { mode: "mailbox", remotePath: folder, exclude: ["filler.bin"] });
    if (!w) return;
    try {
      const ws = mountPoint!;
      await writeFile(path.join(ws, "notes.md"), "notes\n");
      const outbox = { "small.txt": body(4 * KB, 2), "big.bin": body(2 * MB, 3), "deep/also-small.txt": body(8 * KB, 4) };
      expect(freeBytes(ws)).toBeLessThan(outbox["big.bin"].length);
      await seedRemote(server, `${folder}/_outbox`, outbox);

      const res = await w.cli("sync");
      expect(res.code, res.stderr).toBe(1);
      expectCleanError(res.stderr);
      expect(res.stderr).toMatch(/disk is full|no space left/i);
      // The big file is still in the cloud; whatever reached _inbox is whole; staging holds no partial copy.
      expect(Object.keys(await remoteFiles(server, `${folder}/_outbox`))).toContain("big.bin");
      const inbox = await localFiles(path.join(ws, "_inbox"));
      for (const [rel, sha] of Object.entries(inbox)) expect(sha, `${rel} is whole`).toBe(sha256(outbox[rel as keyof typeof outbox]));
      expect(inbox["big.bin"]).toBeUndefined();
      expect(await localFiles(path.join(ws, ".workspace-sync", "incoming"))).toEqual({});
      const status = JSON.parse((await w.cli("status", "--json")).stdout) as { sync: { lastRun: { ok: boolean; error: string } } };
      expect(status.sync.lastRun.ok).toBe(false);
      expect(status.sync.lastRun.error).toMatch(/disk is full/);

      await rm(path.join(ws, "filler.bin"));
      const again = await w.cli("sync");
      expect(again.code, again.stderr).toBe(0);
      expect(await localFiles(path.join(ws, "_inbox"))).toEqual(Object.fromEntries(Object.entries(outbox).map(([k, v]) => [k, sha256(v)])));
      expect(await remoteFiles(server, `${folder}/_outbox`)).toEqual({});
    } finally {
      await w.cleanup();
      await unmount(mountPoint);
    }
  });

  it("mirror ingest: ENOSPC → exit 1 saying the disk is full, the drop stays, no partial file; after freeing space it arrives whole", async (ctx) => {
    const folder = `full-mir-${Object.keys(env).length}`;
    const w = await worldOnTmpfs(ctx, { mode: "mirror", remotePath: folder, ingest: true, ingestPath: "drops", exclude: ["filler.bin"] });
    if (!w) return;
    try {
      const ws = mountPoint!;
      await writeFile(path.join(ws, "report.md"), "report\n");
      const drops = { "big.bin": body(2 * MB, 5), "a.txt": body(2 * KB, 6) };
      await seedRemote(server, `${folder}/drops`, drops);

      const res = await w.cli("sync");
      expect(res.code, res.stderr).toBe(1);
      expectCleanError(res.stderr);
      expect(res.stderr).toMatch(/disk is full|no space left/i);
      expect(Object.keys(await remoteFiles(server, `${folder}/drops`)).sort()).toEqual(["a.txt", "big.bin"]);
      const arrived = await localFiles(path.join(ws, "drops")).catch(() => ({}));
      for (const [rel, sha] of Object.entries(arrived)) expect(sha, `${rel} is whole`).toBe(sha256(drops[rel as keyof typeof drops]));
      expect((arrived as Record<string, string>)["big.bin"]).toBeUndefined();
      expect(await localFiles(path.join(ws, ".workspace-sync", "ingest")).catch(() => ({}))).toEqual({});

      await rm(path.join(ws, "filler.bin"));
      const again = await w.cli("sync");
      expect(again.code, again.stderr).toBe(0);
      expect(await localFiles(path.join(ws, "drops"))).toEqual(Object.fromEntries(Object.entries(drops).map(([k, v]) => [k, sha256(v)])));
      // The push left the drops alone on the remote.
      expect(Object.keys(await remoteFiles(server, `${folder}/drops`)).sort()).toEqual(["a.txt", "big.bin"]);
    } finally {
      await w.cleanup();
      await unmount(mountPoint);
    }
  });
});

afterAll(async () => {
  await stopAll();
});
