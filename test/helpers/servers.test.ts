// Proves every harness server works with the real rclone binary: copy, lsjson, sync (deletion), rcat,
// copyto/moveto, move back, and for sftp/s3 a hard kill + restart that keeps the data.
import { execFileSync } from "node:child_process";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ServerKind,
  type TestServer,
  type TreeSpec,
  RCLONE_BIN,
  freePort,
  makeTree,
  randomBytesSeeded,
  randomTree,
  rclone,
  rcloneEnv,
  readTree,
  readTreeDetailed,
  sha256,
  specDigest,
  startS3Server,
  startServer,
  startSftpServer,
  startWebdavServer,
  stopAll,
  tempDir,
  withTimeout,
  writeRcloneConf,
} from "./servers.js";

interface LsEntry {
  Path: string;
  Size: number;
  IsDir: boolean;
  ModTime: string;
}

const MTIME = new Date("2020-01-02T03:04:05Z");
const TREE: TreeSpec = {
  "a.txt": "alpha\n",
  "notes/b.md": "# bravo\n",
  "notes/deep/c.json": '{"c":1}\n',
  "bin/blob.dat": randomBytesSeeded(70_000, 7),
  "fixed-mtime.txt": { content: "old file\n", mtime: MTIME },
  "name with spaces & ü.txt": "unicode\n",
};
const STREAM_SIZE = 3 * 1024 * 1024;

afterAll(async () => {
  await stopAll();
});

/** lsjson -R files only, keyed by path. */
async function lsFiles(remotePath: string, config: string, extra: string[] = []): Promise<Record<string, LsEntry>> {
  const { stdout } = await rclone(["lsjson", "-R", "--files-only", ...extra, remotePath], { config });
  const out: Record<string, LsEntry> = {};
  for (const e of JSON.parse(stdout) as LsEntry[]) out[e.Path] = e;
  return out;
}

/** 3 MiB of deterministic bytes as a stream in 64 KiB chunks (rcat must not know the size up front). */
function streamOf(data: Buffer): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (off >= data.length) return this.push(null);
      this.push(data.subarray(off, off + 65_536));
      off += 65_536;
    },
  });
}

const timings: Record<string, number> = {};

describe.each(["local", "sftp", "webdav", "s3"] as ServerKind[])("%s server with real rclone", (kind) => {
  let server: TestServer;
  let work: string;
  let conf: string;
  // s3rver lists wrongly with a delimiter above ~1,000 keys; the product uses --fast-list there.
  const listFlags = kind === "s3" ? ["--fast-list"] : [];
  const p = (sub: string) => server.remotePath(sub);

  beforeAll(async () => {
    const t0 = Date.now();
    server = await startServer(kind);
    timings[`${kind} start`] = Date.now() - t0;
    work = await tempDir(`work-${kind}`);
    conf = await writeRcloneConf(path.join(work, "rclone.conf"), { remote: server.rcloneSection });
  });

  it("exposes a consistent section and product config block", async () => {
    expect(server.kind).toBe(kind);
    expect(server.rcloneSection.type).toBe(kind === "webdav" ? "webdav" : kind === "sftp" ? "sftp" : kind);
    const block = server.configBlock;
    if (kind === "local") expect(block).toEqual({ provider: "local", local: { path: server.rootDir } });
    if (kind === "s3") {
      expect(block.provider).toBe("s3");
      expect(block).toMatchObject({ s3: { provider: "Other", region: "us-east-1", accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    }
    if (kind === "sftp" || kind === "webdav") {
      expect(block).toMatchObject({ provider: "custom", custom: { rcloneType: kind } });
      // Product config holds the plain secret, the rclone section its obscured form.
      const opts = (block as { custom: { rcloneOptions: Record<string, string> } }).custom.rcloneOptions;
      expect(opts.pass).toBeTruthy();
      expect(server.rcloneSection.pass).not.toBe(opts.pass);
      const revealed = execFileSync(RCLONE_BIN, ["reveal", "--config", "/dev/null", "--", server.rcloneSection.pass!], { env: rcloneEnv() }).toString().trim();
      expect(revealed).toBe(opts.pass);
    }
    expect((await stat(conf)).mode & 0o777).toBe(0o600);
  });

  it("copy up, lsjson -R, sync a deletion, rcat a stream, copyto/moveto, move back", async () => {
    const t0 = Date.now();
    const src = await makeTree(path.join(work, "src"), TREE);
    const confBefore = await readFile(conf, "utf8");

    // copy
    await rclone(["copy", src, p("tree"), ...listFlags], { config: conf });
    const listed = await lsFiles(p("tree"), conf, listFlags);
    expect(Object.keys(listed).sort()).toEqual(Object.keys(TREE).sort());
    expect(listed["bin/blob.dat"]!.Size).toBe(70_000);
    // mtimes: kept by local, sftp and s3 (metadata); `rclone serve webdav` keeps none.
    const fixed = new Date(listed["fixed-mtime.txt"]!.ModTime).getTime();
    if (kind === "webdav") expect(fixed).not.toBe(MTIME.getTime());
    else expect(fixed).toBe(MTIME.getTime());
    // The backing directory holds byte-identical data.
    const onDisk = await server.readRoot();
    const expectTree = Object.fromEntries(Object.entries(specDigest(TREE)).map(([k, v]) => [`tree/${k}`, v]));
    expect(onDisk).toEqual(expectTree);

    // sync a deletion
    await rm(path.join(src, "notes/deep/c.json"));
    await rclone(["sync", src, p("tree"), ...listFlags], { config: conf });
    const afterSync = await lsFiles(p("tree"), conf, listFlags);
    expect(afterSync["notes/deep/c.json"]).toBeUndefined();
    expect(Object.keys(afterSync)).toHaveLength(Object.keys(TREE).length - 1);
    expect(await server.readRoot()).not.toHaveProperty("tree/notes/deep/c.json");

    // rcat a 3 MiB stream (multipart on s3: one 5 MiB chunk; 5 MiB is rclone's floor)
    const data = randomBytesSeeded(STREAM_SIZE, 42);
    const chunk = kind === "s3" ? ["--s3-chunk-size", "5M"] : [];
    await rclone(["rcat", p("stream/big.bin"), ...chunk], { config: conf, input: streamOf(data) });
    const streamLs = await lsFiles(p("stream"), conf, listFlags);
    expect(streamLs["big.bin"]!.Size).toBe(STREAM_SIZE);
    expect((await server.readRoot())["stream/big.bin"]).toBe(sha256(data));

    // server-side copyto / moveto
    await rclone(["copyto", p("stream/big.bin"), p("stream/copy.bin")], { config: conf });
    await rclone(["moveto", p("stream/copy.bin"), p("stream/moved.bin")], { config: conf });
    const afterMove = await server.readRoot();
    expect(afterMove["stream/moved.bin"]).toBe(sha256(data));
    expect(afterMove).not.toHaveProperty("stream/copy.bin");
    await rclone(["deletefile", p("stream/moved.bin")], { config: conf });

    // move the tree back down
    const dest = path.join(work, "dest");
    await rclone(["move", p("tree"), dest, "--delete-empty-src-dirs", ...listFlags], { config: conf });
    const expected = { ...TREE };
    delete expected["notes/deep/c.json"];
    expect(await readTree(dest)).toEqual(specDigest(expected));
    expect(Object.keys(await lsFiles(p("tree"), conf, listFlags).catch(() => ({})))).toEqual([]);
    const remaining = Object.keys(await server.readRoot());
    expect(remaining).toEqual(["stream/big.bin"]);

    // rclone left the conf alone (sftp would write shell_type/md5sum_command back if not pinned)
    expect(await readFile(conf, "utf8")).toBe(confBefore);
    timings[`${kind} ops`] = Date.now() - t0;
  });

  it.runIf(kind === "sftp" || kind === "s3")("kill() then restart() keeps port and data", async () => {
    const port = server.port;
    const before = await server.readRoot();
    expect(before["stream/big.bin"]).toBeDefined();
    await server.kill();
    expect(server.running()).toBe(false);
    const down = await rclone(["lsjson", p("stream"), "--retries", "1", "--low-level-retries", "1", "--contimeout", "1s"], { config: conf, check: false });
    expect(down.code).not.toBe(0);
    const t0 = Date.now();
    await server.restart();
    timings[`${kind} restart`] = Date.now() - t0;
    expect(server.port).toBe(port);
    expect(server.running()).toBe(true);
    const ls = await lsFiles(p("stream"), conf, listFlags);
    expect(ls["big.bin"]!.Size).toBe(STREAM_SIZE);
    expect(await server.readRoot()).toEqual(before);
  });
});

describe("credentials", () => {
  it("sftp: password never in argv, wrong password rejected, key auth works", async () => {
    const s = await startSftpServer({ auth: "key" });
    expect(s.rcloneSection.key_file).toBe(s.keyFile);
    expect(s.rcloneSection.pass).toBeUndefined();
    const ps = execFileSync("ps", ["-eo", "args"]).toString();
    expect(ps).toContain("serve sftp");
    expect(ps).not.toContain(s.password);
    const work = await tempDir("cred");
    const conf = await writeRcloneConf(path.join(work, "rclone.conf"), {
      key: s.rcloneSection,
      bad: { ...s.rcloneSection, key_file: "", pass: (await rclone(["obscure", "-"], { input: "wrong\n" })).stdout.trim() },
    });
    await rclone(["mkdir", "key:dir"], { config: conf });
    const bad = await rclone(["lsd", "bad:", "--retries", "1", "--low-level-retries", "1"], { config: conf, check: false });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unable to authenticate/);
    await s.dispose();
  });

  it("webdav: basic auth enforced", async () => {
    const s = await startWebdavServer();
    const work = await tempDir("cred");
    const conf = await writeRcloneConf(path.join(work, "rclone.conf"), {
      ok: s.rcloneSection,
      anon: { type: "webdav", url: s.url, vendor: "other" },
    });
    await rclone(["mkdir", "ok:x"], { config: conf });
    const anon = await rclone(["lsd", "anon:", "--retries", "1", "--low-level-retries", "1"], { config: conf, check: false });
    expect(anon.code).not.toBe(0);
    const ps = execFileSync("ps", ["-eo", "args"]).toString();
    expect(ps).not.toContain(s.password);
    await s.dispose();
  });

  it("s3: AWS_CA_BUNDLE is kept away from rclone", async () => {
    expect(rcloneEnv().AWS_CA_BUNDLE).toBeUndefined();
    expect(Object.keys(rcloneEnv({})).filter((k) => /^(AWS_|RCLONE_)/i.test(k))).toEqual([]);
    const s = await startS3Server({ bucket: "second-bucket" });
    const work = await tempDir("cred");
    const conf = await writeRcloneConf(path.join(work, "rclone.conf"), { s3: s.rcloneSection });
    await rclone(["rcat", "s3:second-bucket/x.txt"], { config: conf, input: "hi" });
    expect(await s.readRoot()).toEqual({ "x.txt": sha256("hi") });
    await s.dispose();
  });
});

describe("tree and misc helpers", () => {
  it("randomTree is deterministic and readTree round-trips modes, mtimes, symlinks", async () => {
    const a = await tempDir("rt");
    const b = await tempDir("rt");
    const specA = await randomTree(a, { files: 40, maxSize: 4096, seed: 1234 });
    const specB = await randomTree(b, { files: 40, maxSize: 4096, seed: 1234 });
    expect(Object.keys(specA)).toEqual(Object.keys(specB));
    expect(await readTree(a)).toEqual(await readTree(b));
    expect(await readTree(a)).toEqual(specDigest(specA));
    const c = await tempDir("rt");
    await randomTree(c, { files: 40, maxSize: 4096, seed: 999 });
    expect(await readTree(c)).not.toEqual(await readTree(a));

    const d = await tempDir("rt");
    await makeTree(d, {
      "x.sh": { content: "#!/bin/sh\n", mode: 0o755, mtime: MTIME },
      "link": { symlink: "x.sh" },
      "empty": { dir: true },
    });
    const det = await readTreeDetailed(d, { emptyDirs: true });
    expect(det["x.sh"]).toMatchObject({ type: "file", mode: 0o755, mtimeMs: MTIME.getTime(), size: 10 });
    expect(det["link"]).toMatchObject({ type: "symlink", target: "x.sh" });
    expect(det["empty"]).toMatchObject({ type: "dir" });
    expect(await readTree(d)).toEqual({ "x.sh": sha256("#!/bin/sh\n"), link: "symlink:x.sh" });
  });

  it("freePort and withTimeout", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    await expect(withTimeout(new Promise(() => {}), 50, "never")).rejects.toThrow(/never timed out after 50 ms/);
    await expect(withTimeout(Promise.resolve(5), 50)).resolves.toBe(5);
  });

  afterAll(() => {
    console.log("harness timings (ms):", JSON.stringify(timings));
  });
});
