// The repository through `rclone serve restic --stdio` on real remotes (local, sftp, S3 via s3rver): what we write
// passes `restic -r rclone:REMOTE:PATH check --read-data` and restores; a killed rclone child is replaced and the
// run completes; no secret reaches rclone's argv or environment.
import { readdir, readFile, readlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RcloneStorage, STAGING_FOLDER, type RcloneStorageOptions } from "../../src/backup/formats/repository/backend.js";
import { atLeast } from "../../src/rclone/version.js";
import { BackendError } from "../../src/backup/formats/repository/errors.js";
import { Repository } from "../../src/backup/formats/repository/repository.js";
import { findRclone } from "../../src/rclone/binary.js";
import { registerChildSecrets } from "../../src/util/child-env.js";
import { randomBytesSeeded, rcloneEnv, startServer, stopAll, tempDir, type ServerKind, type TestServer, writeRcloneConf } from "../helpers/servers.js";
import { restic } from "../support/restic-oracle.js";

const PASSWORD = "transport password";
const FAST_KDF = { N: 1024, r: 8, p: 1 };

async function setup(kind: ServerKind, sub = "repo", spool = false) {
  const server: TestServer = await startServer(kind);
  const conf = path.join(await tempDir("rclone-conf"), "rclone.conf");
  await writeRcloneConf(conf, { remote: server.rcloneSection });
  const remotePath = server.remotePath(sub);
  const pids: number[] = [];
  const moves: number[] = [];
  const bin = await findRclone();
  const spoolDir = spool ? path.join(await tempDir("spool"), "spool") : undefined;
  const connect = (over: Partial<RcloneStorageOptions> = {}) =>
    new RcloneStorage({ bin, configPath: conf, remotePath, env: rcloneEnv(), onSpawn: (p, role) => (role === "session" ? pids : moves).push(p), backoffMs: 100, ...(spoolDir ? { spoolDir } : {}), ...over });
  return { server, bin, conf, remotePath, storage: connect(), connect, pids, moves, spoolDir, resticRepo: `rclone:${remotePath}`, resticEnv: { RCLONE_CONFIG: conf } };
}

function treeJson(name: string, content: string[], size: number): string {
  const t = "2024-05-01T10:00:00Z";
  return `{"nodes":[${JSON.stringify({ name, type: "file", mode: 420, mtime: t, atime: t, ctime: t, uid: 0, gid: 0, size, content })}]}\n`;
}

async function backupOneFile(repo: Repository, data: Buffer, piece = 400_000): Promise<string> {
  const content: string[] = [];
  for (let at = 0; at < data.length; at += piece) content.push((await repo.saveBlob("data", data.subarray(at, at + piece))).id);
  const tree = await repo.saveBlob("tree", Buffer.from(treeJson("file.bin", content, data.length)));
  await repo.flush();
  return repo.saveUnpacked("snapshots", JSON.stringify({ time: new Date().toISOString(), tree: tree.id, paths: ["/t"], hostname: "h" }));
}

describe.each(["local", "sftp", "s3"] as const)("repository over rclone serve restic --stdio: %s", (kind) => {
  afterAll(() => stopAll());

  it.each([false, true])("writes a repository restic opens through rclone (check --read-data, restore), and reads it back (packs spooled to a file: %s)", async (spool) => {
    const t = await setup(kind, "repo", spool);
    const data = randomBytesSeeded(2_500_000, 3);
    const repo = await Repository.init(t.storage, PASSWORD, { kdf: FAST_KDF, packSize: 1 << 20 });
    const snap = await backupOneFile(repo, data);
    await repo.close();
    const opts = { repo: t.resticRepo, password: PASSWORD, env: t.resticEnv };
    expect((await restic(["check", "--read-data"], opts)).stdout).toContain("no errors were found");
    const target = await tempDir("restore");
    await restic(["restore", snap, "--target", target], opts);
    expect((await readFile(path.join(target, "file.bin"))).equals(data)).toBe(true);
    // Spooled packs were uploaded from their file, which is gone once uploaded; so is the remote control's password
    // file. Where saves are staged (rclone < 1.63 on a backend that writes in place), the session's own rclone moved
    // the key, config, index and snapshot into place: no rclone was started per move.
    if (t.spoolDir) expect(await readdir(t.spoolDir)).toEqual([]);
    const staged = !atLeast(t.bin.version, 1, 63); // (the product turns staging off on S3; this test does not)
    expect(t.storage.movedInProcess).toBe(spool && staged ? 4 : 0);
    expect(t.moves.length).toBe(staged && !spool ? 4 : 0);
    if (kind === "local") {
      // rclone 1.60 writes files in place: the snapshot, index, key and config went through the staging folder
      // (left empty) and were moved into place, so a killed writer never leaves a truncated one.
      if (!atLeast(t.bin.version, 1, 63)) expect(await readdir(path.join(t.server.rootDir, "repo", STAGING_FOLDER))).toEqual([]);
      // The same folder as a plain local path.
      expect((await restic(["check"], { repo: path.join(t.server.rootDir, "repo"), password: PASSWORD })).code).toBe(0);
    }

    // restic adds a snapshot through rclone; we read everything back through our own rclone session.
    await restic(["backup", "--stdin", "--stdin-filename", "from-restic.txt"], { ...opts, input: "written by restic\n" });
    const again = await Repository.open(t.connect(), PASSWORD);
    const loaded = await again.loadIndex();
    expect(loaded.files).toBeGreaterThanOrEqual(2);
    expect((await again.listSnapshots()).length).toBe(2);
    const { tree } = (await again.loadSnapshot(snap)) as { tree: string };
    const node = (JSON.parse((await again.loadBlob("tree", tree)).toString()) as { nodes: { content: string[] }[] }).nodes[0]!;
    const back = Buffer.concat(await Promise.all(node.content.map((id) => again.loadBlob("data", id))));
    expect(back.equals(data)).toBe(true);
    await again.close();
  });
});

describe.each(["local", "sftp", "s3"] as const)("ranged reads hand their bytes out as they arrive: %s", (kind) => {
  afterAll(() => stopAll());

  it("hands a ranged read out piece by piece in buffers of their own, skipped pieces never kept; never for a whole file or a missing one", async () => {
    const t = await setup(kind, "pieces");
    await t.storage.create();
    const file = randomBytesSeeded(3_000_000, 21);
    const name = "ab".padEnd(64, "0");
    await t.storage.save("data", name, [file]);
    const range = { offset: 12_345, length: 2_600_000 };
    const lengths = [100_000, 5, 1_400_000, 300_000, 795_995];
    const skip = [false, false, false, true, false];
    const seen: { index: number; piece: Buffer | undefined }[] = [];
    const got = await t.storage.load("data", name, range, { pieces: { lengths, skip, onPiece: (index, piece) => seen.push({ index, piece }) } });
    // Resolved empty: the pieces are the bytes, in order, each exactly its own memory.
    expect(got.length).toBe(0);
    expect(seen.map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
    let at = range.offset;
    seen.forEach(({ index, piece }) => {
      if (skip[index]) expect(piece).toBeUndefined();
      else {
        expect(piece!.equals(file.subarray(at, at + lengths[index]!))).toBe(true);
        expect([piece!.byteOffset, piece!.buffer.byteLength]).toEqual([0, lengths[index]]);
      }
      at += lengths[index]!;
    });
    // A whole file, and an error answer's text, are never offered as a range's pieces.
    let calls = 0;
    const onPiece = () => calls++;
    expect((await t.storage.load("data", name, undefined, { pieces: { lengths: [file.length], onPiece } })).equals(file)).toBe(true);
    await expect(t.storage.load("data", "cd".padEnd(64, "0"), { offset: 0, length: 100 }, { pieces: { lengths: [100], onPiece } })).rejects.toThrow(/does not exist/);
    expect(calls).toBe(0);
    await t.storage.close();
  });
});

describe("rclone session faults and secrets", () => {
  afterAll(() => stopAll());

  it.each([false, true])("recovers from an rclone child killed mid-session: uploads are retried whole on a new session (packs spooled: %s)", async (spool) => {
    const t = await setup("local", "repo", spool);
    const repo = await Repository.init(t.storage, PASSWORD, { kdf: FAST_KDF, packSize: 1 << 20, uploads: 3 });
    const data = randomBytesSeeded(12_000_000, 9);
    let killed = false;
    const content: string[] = [];
    for (let at = 0; at < data.length; at += 300_000) {
      content.push((await repo.saveBlob("data", data.subarray(at, at + 300_000))).id);
      if (!killed && at > 4_000_000) {
        killed = true;
        process.kill(t.pids.at(-1)!, "SIGKILL");
      }
    }
    const tree = await repo.saveBlob("tree", Buffer.from(treeJson("file.bin", content, data.length)));
    await repo.flush();
    await repo.saveUnpacked("snapshots", JSON.stringify({ time: new Date().toISOString(), tree: tree.id, paths: ["/t"], hostname: "h" }));
    expect(t.storage.spawned).toBeGreaterThanOrEqual(2);
    await repo.close();
    if (t.spoolDir) expect(await readdir(t.spoolDir)).toEqual([]);
    const opts = { repo: t.resticRepo, password: PASSWORD, env: t.resticEnv };
    expect((await restic(["check", "--read-data"], opts)).stdout).toContain("no errors were found");
  });

  // rclone's stdin and stdout are a Unix socket (the HTTP/2 session then runs natively); where no socket pair can be
  // made (no writable temporary folder here, Windows elsewhere) they are two pipes, and everything works the same.
  it.each([true, false])("speaks HTTP/2 with rclone over a socket pair, or over pipes without a temporary folder (socket: %s)", async (socket) => {
    const t = await setup("local");
    const tmp = process.env.TMPDIR;
    if (!socket) process.env.TMPDIR = path.join(t.server.rootDir, "no-such-folder");
    try {
      const repo = await Repository.init(t.storage, PASSWORD, { kdf: FAST_KDF, packSize: 1 << 20 });
      const stdin = await readlink(`/proc/${t.pids.at(-1)!}/fd/0`);
      const stdout = await readlink(`/proc/${t.pids.at(-1)!}/fd/1`);
      // One socket for both (ours), or Node's two stdio pipes (which libuv makes as two socket pairs of its own).
      if (socket) expect(stdout).toBe(stdin);
      else expect(stdout).not.toBe(stdin);
      const data = randomBytesSeeded(3_000_000, 12);
      const snap = await backupOneFile(repo, data);
      const { tree } = (await repo.loadSnapshot(snap)) as { tree: string };
      const node = (JSON.parse((await repo.loadBlob("tree", tree)).toString()) as { nodes: { content: string[] }[] }).nodes[0]!;
      expect(Buffer.concat(await Promise.all(node.content.map((id) => repo.loadBlob("data", id)))).equals(data)).toBe(true);
      await repo.close();
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
    expect((await restic(["check", "--read-data"], { repo: t.resticRepo, password: PASSWORD, env: t.resticEnv })).stdout).toContain("no errors were found");
  });

  it("a spool folder that cannot be written fails the run naming it; no index names a pack; restic checks the rest clean", async () => {
    const t = await setup("local", "repo", true);
    // The spool folder is a file: no pack can be written there (what a full or read-only disk does, portably).
    await writeFile(t.spoolDir!, "not a folder");
    const repo = await Repository.init(t.storage, PASSWORD, { kdf: FAST_KDF, packSize: 1 << 20 });
    const err = await backupOneFile(repo, randomBytesSeeded(2_500_000, 4)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toContain(`the local spool folder ${t.spoolDir} failed`);
    await repo.close();
    expect(await readdir(path.join(t.server.rootDir, "repo", "index"))).toEqual([]);
    expect((await restic(["check"], { repo: t.resticRepo, password: PASSWORD, env: t.resticEnv })).code).toBe(0);
  });

  it("an rclone that cannot serve its remote control (its port taken) is started again without it; moves then run rclone moveto", async () => {
    const t = await setup("sftp", "repo", true);
    if (atLeast(t.bin.version, 1, 63)) return; // saves are not staged: nothing to move
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      // A later --rc-addr wins over the session's own: what a machine without a free loopback port would do.
      const storage = t.connect({ extraArgs: ["--rc-addr", `127.0.0.1:${port}`] });
      const repo = await Repository.init(storage, PASSWORD, { kdf: FAST_KDF, packSize: 1 << 20 });
      const data = randomBytesSeeded(1_500_000, 5);
      const snap = await backupOneFile(repo, data);
      await repo.close();
      expect(storage.spawned).toBe(2); // the refused start, then one session for the whole run
      expect(storage.movedInProcess).toBe(0);
      expect(t.moves.length).toBeGreaterThanOrEqual(4);
      expect(await readdir(t.spoolDir!)).toEqual([]);
      const opts = { repo: t.resticRepo, password: PASSWORD, env: t.resticEnv };
      expect((await restic(["check", "--read-data"], opts)).stdout).toContain("no errors were found");
      const target = await tempDir("restore-rc");
      await restic(["restore", snap, "--target", target], opts);
      expect((await readFile(path.join(target, "file.bin"))).equals(data)).toBe(true);
    } finally {
      busy.close();
    }
  });

  it("fails at once with rclone's own explanation for an unknown remote (a dead server: repository-store-kill.faults.ts)", async () => {
    const t = await setup("sftp");
    const unknown = t.connect({ remotePath: "nosuchremote:repo" });
    const started = Date.now();
    const err = await unknown.list("keys").then(() => undefined, (e: unknown) => e as BackendError);
    expect(err).toBeInstanceOf(BackendError);
    expect(err?.transient).toBe(false);
    expect(err?.message).toMatch(/didn't find section in config file/);
    expect(unknown.spawned).toBe(1); // not retried: a startup failure of rclone is permanent
    expect(Date.now() - started).toBeLessThan(20_000);
    await unknown.close();
  });

  it("keeps configured secrets and the repository password out of rclone's argv and environment", async () => {
    const secret = "s3cr3t-value-for-the-env-filter";
    registerChildSecrets([secret]);
    process.env.WSYNC_TEST_SECRET = secret;
    try {
      const t = await setup("sftp");
      const storage = t.connect({ env: { ...rcloneEnv(), WSYNC_TEST_SECRET: secret } });
      const repo = await Repository.init(storage, PASSWORD, { kdf: FAST_KDF });
      const pid = t.pids.at(-1)!;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
      const environ = await readFile(`/proc/${pid}/environ`, "utf8");
      expect(cmdline.split("\0")).toEqual(expect.arrayContaining(["serve", "restic", "--stdio", t.remotePath, "--config", t.conf]));
      for (const text of [cmdline, environ]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(PASSWORD);
      }
      expect(cmdline).not.toContain((t.server as { password?: string }).password);
      await repo.close();
      // Closing ends the child.
      await expect(readFile(`/proc/${pid}/cmdline`, "utf8")).rejects.toThrow();
    } finally {
      delete process.env.WSYNC_TEST_SECRET;
    }
  });
});
