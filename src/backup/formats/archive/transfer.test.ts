// Every failure of the streaming transfer settles it (no hang, no unhandled EPIPE), with the real rclone, and the
// same for a folder on this machine, which is read and written without rclone.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Transform, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRclone, type RcloneBinary } from "../../../rclone/binary.js";
import { resolveRemote, type ResolvedRemote, writeRemoteSections } from "../../../rclone/remotes.js";
import { createDecompressor } from "./codec.js";
import { resetDigestHelper } from "../../../util/file-digest.js";
import { downloadObject, s3ChunkArgs, uploadObject } from "./transfer.js";

let dir: string;
let bin: RcloneBinary;
let remote: ResolvedRemote;
let local: ResolvedRemote;
const env = process.env;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "ws-transfer-"));
  bin = await findRclone(undefined, process.env.PATH);
  local = resolveRemote({ provider: "local", remoteName: "t", local: { path: path.join(dir, "repo") } }, "", path.join(dir, "rclone.conf"));
  remote = throughRclone(local);
  await writeRemoteSections(remote);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The same folder reached through rclone's local backend (a remote without localDir goes through rclone). */
function throughRclone(r: ResolvedRemote): ResolvedRemote {
  const { localDir: _direct, ...rest } = r;
  return rest;
}

/** A source of `n` MiB that fails after `failAfter` MiB when given. */
function source(n: number, failAfter?: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && i === failAfter) return void this.destroy(new Error("EIO: read error on disk"));
      if (i++ === n) return void this.push(null);
      this.push(randomBytes(1 << 20));
    },
  });
}

const consumeAll = (s: Readable) =>
  new Promise<number>((resolve, reject) => {
    let n = 0;
    s.on("data", (c: Buffer) => (n += c.length));
    s.on("end", () => resolve(n));
    s.on("error", reject);
  });

describe("upload and download", () => {
  it("streams an object both ways with its size and SHA-256", async () => {
    const data = randomBytes(3 << 20);
    const up = await uploadObject({ bin, remote, env, name: "obj", stages: [Readable.from([data])], expectedBytes: data.length });
    expect(up).toEqual({ size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
    const down = await downloadObject({ bin, remote, env, name: "obj", stages: [], consume: consumeAll });
    expect(down).toEqual({ result: data.length, stored: up });
  });

  it("a read error in a stage fails the upload with that error", async () => {
    const started = Date.now();
    await expect(uploadObject({ bin, remote, env, name: "fail-read", stages: [source(64, 5)], expectedBytes: 64 << 20 })).rejects.toThrow(/EIO/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("rclone exiting early (unusable destination) fails the upload without EPIPE or hang", async () => {
    await writeFile(path.join(dir, "a-file"), "x");
    const bad = throughRclone(resolveRemote({ provider: "local", remoteName: "t", local: { path: path.join(dir, "a-file", "below") } }, "", path.join(dir, "rclone.conf")));
    await expect(uploadObject({ bin, remote: bad, env, name: "x", stages: [source(256)], expectedBytes: 256 << 20 })).rejects.toMatchObject({ name: "RcloneError" });
  });

  it("rclone killed by a signal mid-upload fails it", async () => {
    let pid = 0;
    const slow = new Transform({
      transform(c, _e, cb) {
        setTimeout(() => cb(null, c), 5);
      },
    });
    const p = uploadObject({ bin, remote, env, name: "killed", stages: [source(200), slow], expectedBytes: 200 << 20, onSpawn: (p) => (pid = p) });
    await new Promise((r) => setTimeout(r, 300));
    expect(pid, "rclone was started").toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    await expect(p).rejects.toThrow(/killed by SIGKILL/);
  });

  it("rclone killed after the source ended (rest still buffered downstream) fails the upload without a hang", async () => {
    // Found by the fault suite: destroying an already-ended source is a no-op, so the later stages waited forever.
    let pid = 0;
    const slow = new Transform({
      highWaterMark: 64 << 20,
      transform(c, _e, cb) {
        setTimeout(() => cb(null, c), 20);
      },
    });
    const src = source(4);
    const p = uploadObject({ bin, remote, env, name: "killed-late", stages: [src, slow], expectedBytes: 4 << 20, onSpawn: (p) => (pid = p) });
    await new Promise<void>((r) => src.once("end", () => r()));
    expect(pid, "rclone was started").toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    await expect(p).rejects.toThrow(/killed by SIGKILL/);
  });

  it("a missing object, a failing stage or a failing consumer ends the download (no hang)", async () => {
    await expect(downloadObject({ bin, remote, env, name: "missing", stages: [], consume: consumeAll })).rejects.toMatchObject({ name: "RcloneError" });
    await uploadObject({ bin, remote, env, name: "big", stages: [source(64)], expectedBytes: 64 << 20 });
    await expect(downloadObject({ bin, remote, env, name: "big", stages: [createDecompressor("zstd")!], consume: consumeAll })).rejects.toThrow();
    const quitter = (s: Readable) =>
      new Promise<void>((_, reject) => {
        s.once("data", () => reject(new Error("consumer gave up")));
      });
    await expect(downloadObject({ bin, remote, env, name: "big", stages: [], consume: quitter })).rejects.toThrow("consumer gave up");
    const sink = (s: Readable) => new Promise<void>((resolve) => s.pipe(new Writable({ write: (_c, _e, cb) => cb(), final: (cb) => (cb(), resolve()) })));
    await downloadObject({ bin, remote, env, name: "big", stages: [], consume: sink });
    expect((await readFile(path.join(dir, "repo", "big"))).length).toBe(64 << 20);
  });

  it("sizes S3 parts so a stream of unknown size fits in 10,000 parts", () => {
    const s3 = { ...remote, backendType: "s3" };
    expect(s3ChunkArgs(remote, 1e12)).toEqual([]);
    expect(s3ChunkArgs(s3, 1 << 20)).toEqual(["--s3-chunk-size", "8M"]);
    const [, size] = s3ChunkArgs(s3, 200 * 2 ** 30);
    expect(Number(size!.slice(0, -1)) * 10_000 * 2 ** 20).toBeGreaterThan(200 * 2 ** 30);
  });
});

describe("a folder on this machine (no rclone)", () => {
  it("streams an object both ways with its size and SHA-256, owner-only, without starting rclone", async () => {
    let spawned = 0;
    const data = randomBytes(3 << 20);
    const up = await uploadObject({ bin, remote: local, env, name: "direct", stages: [Readable.from([data])], expectedBytes: 0, onSpawn: () => spawned++ });
    expect(up).toEqual({ size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
    const file = path.join(dir, "repo", "direct");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const down = await downloadObject({ bin, remote: local, env, name: "direct", stages: [], consume: consumeAll, onSpawn: () => spawned++ });
    expect(down).toEqual({ result: data.length, stored: up });
    expect(spawned).toBe(0);
  });

  it("a failing stage fails the upload with that error; a missing object, a failing stage or consumer end the download", async () => {
    await expect(uploadObject({ bin, remote: local, env, name: "broken", stages: [source(8, 2)], expectedBytes: 0 })).rejects.toThrow("EIO: read error on disk");
    await expect(downloadObject({ bin, remote: local, env, name: "missing", stages: [], consume: consumeAll })).rejects.toThrow(/reading .*missing failed: it does not exist/);
    await uploadObject({ bin, remote: local, env, name: "big-local", stages: [source(16)], expectedBytes: 0 });
    await expect(downloadObject({ bin, remote: local, env, name: "big-local", stages: [createDecompressor("zstd")!], consume: consumeAll })).rejects.toThrow();
    const quitter = (s: Readable) => new Promise<void>((_, reject) => s.once("data", () => reject(new Error("consumer gave up"))));
    await expect(downloadObject({ bin, remote: local, env, name: "big-local", stages: [], consume: quitter })).rejects.toThrow("consumer gave up");
  });

  it("a large object's SHA-256 comes from a helper process, or from here when the helper fails or is missing", async () => {
    const data = randomBytes(17 << 20); // past the size a helper is started for
    const up = await uploadObject({ bin, remote: local, env, name: "large", stages: [Readable.from([data])], expectedBytes: 0 });
    expect(up.sha256).toBe(createHash("sha256").update(data).digest("hex"));
    const fake = path.join(dir, "fake-bin");
    await mkdir(fake, { recursive: true });
    const savedPath = process.env.PATH;
    try {
      for (const script of ["", "cat > /dev/null; exit 1", "cat > /dev/null; echo '(stdin)= " + "0".repeat(64) + "'"]) {
        await rm(path.join(fake, "openssl"), { force: true });
        if (script) await writeFile(path.join(fake, "openssl"), `#!/bin/sh
${script}
`, { mode: 0o755 });
        process.env.PATH = script ? `${fake}${path.delimiter}${savedPath}` : fake; // "": no openssl at all
        resetDigestHelper();
        const down = await downloadObject({ bin, remote: local, env, name: "large", stages: [], consume: consumeAll });
        // A helper that answers a wrong digest is believed: the snapshot then fails its check (never passes a bad one).
        expect(down.stored).toEqual(script.includes("0000") ? { size: data.length, sha256: "0".repeat(64) } : up);
      }
    } finally {
      process.env.PATH = savedPath;
      resetDigestHelper();
    }
    expect((await downloadObject({ bin, remote: local, env, name: "large", stages: [], consume: consumeAll })).stored).toEqual(up);
  });

  it("creates the folder on the first upload, as rclone does", async () => {
    const fresh = resolveRemote({ provider: "local", remoteName: "t", local: { path: path.join(dir, "new", "deeper") } }, "", path.join(dir, "rclone.conf"));
    await uploadObject({ bin, remote: fresh, env, name: "first", stages: [source(1)], expectedBytes: 0 });
    expect((await stat(path.join(dir, "new", "deeper", "first"))).size).toBe(1 << 20);
  });

  it("an unusable folder fails the upload naming the file", async () => {
    await writeFile(path.join(dir, "b-file"), "x");
    const bad = resolveRemote({ provider: "local", remoteName: "t", local: { path: path.join(dir, "b-file", "below") } }, "", path.join(dir, "rclone.conf"));
    await expect(uploadObject({ bin, remote: bad, env, name: "x", stages: [source(1)], expectedBytes: 0 })).rejects.toThrow(/b-file\/below\/x failed: /);
  });

  it("an abort stops a download in flight", async () => {
    await uploadObject({ bin, remote: local, env, name: "abortable", stages: [source(32)], expectedBytes: 0 });
    const stop = new AbortController();
    const slow = new Transform({ transform: (c, _e, cb) => void setTimeout(() => cb(null, c), 10) });
    const p = downloadObject({ bin, remote: local, env, name: "abortable", stages: [slow], consume: consumeAll, signal: stop.signal });
    setTimeout(() => stop.abort(new Error("stopped by the test")), 50);
    await expect(p).rejects.toThrow("stopped by the test");
  });
});
