import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile, link } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTarPackStream } from "../formats/archive/tar-pack.js";
import { walkItems } from "../tree-walk.js";
import type { RestoreEntry } from "./entry.js";
import { TarFormatError, tarSource } from "./tar-source.js";
import { writeEntries } from "./writer.js";

let root: string;
beforeEach(async () => void (root = await mkdtemp(path.join(os.tmpdir(), "ws-tarsrc-"))));
afterEach(() => rm(root, { recursive: true, force: true }));

/** Everything about a tree that a restore must bring back: type, mode, mtime (ms, or s), content or link target. */
async function describeTree(dir: string, timeUnitMs = 1): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for (const name of (await readdir(path.join(dir, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(dir, r));
      const mt = Math.floor(st.mtimeMs / timeUnitMs);
      if (st.isSymbolicLink()) out[r] = `link ${await readlink(path.join(dir, r))}`;
      else if (st.isDirectory()) {
        await walk(r);
        out[r] = `dir ${(st.mode & 0o7777).toString(8)} ${mt}`;
      } else out[r] = `file ${(st.mode & 0o7777).toString(8)} ${mt} ${createHash("sha256").update(await readFile(path.join(dir, r))).digest("hex")}`;
    }
  }
  await walk("");
  return out;
}

async function makeSample(src: string): Promise<void> {
  const longDir = "d".repeat(120);
  const files: Record<string, string | Buffer> = {
    "a.txt": "hello\n",
    empty: "",
    "sub/deep/b.bin": Buffer.alloc(3 * 1024 * 1024 + 5, 7),
    "ünïcødé name.md": "unicode\n",
    "with\nnewline.txt": "nl\n",
    [`${longDir}/${"f".repeat(150)}.txt`]: "long path\n",
    [`p/${"q".repeat(90)}/${"r".repeat(90)}.txt`]: "fits a ustar prefix\n",
  };
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(src, rel)), { recursive: true });
    await writeFile(path.join(src, rel), content);
  }
  await mkdir(path.join(src, "empty-dir"));
  await chmod(path.join(src, "a.txt"), 0o600);
  await chmod(path.join(src, "sub/deep/b.bin"), 0o755);
  await symlink("a.txt", path.join(src, "link-to-a"));
  await symlink(`../${"t".repeat(140)}`, path.join(src, "long-link"));
  const t = new Date("2024-05-06T07:08:09.123Z");
  for (const rel of Object.keys(files)) await utimes(path.join(src, rel), t, t);
  for (const d of ["sub/deep", "sub", "empty-dir", longDir]) await utimes(path.join(src, d), t, t);
}

async function restoreTar(tarFile: string, target: string) {
  return writeEntries(tarSource(createReadStream(tarFile)), { target });
}

/** Hand-made ustar header (for hostile and unusual archives). */
function header(name: string, type: string, size: number, opts: { linkname?: string; mtime?: Buffer; mode?: string } = {}): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100);
  b.write(opts.mode ?? "0000644\0", 100);
  b.write("0000000\0", 108);
  b.write("0000000\0", 116);
  b.write(size.toString(8).padStart(11, "0") + "\0", 124);
  if (opts.mtime) opts.mtime.copy(b, 136);
  else b.write("15000000000\0", 136);
  b.write(type, 156);
  b.write(opts.linkname ?? "", 157, 100);
  b.write("ustar\0" + "00", 257);
  b.write("        ", 148);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return b;
}
const body = (data: Buffer | string) => {
  const d = Buffer.from(data);
  return [d, Buffer.alloc((512 - (d.length % 512)) % 512)];
};
const entry = (name: string, data: string, type = "0") => [header(name, type, Buffer.byteLength(data)), ...body(data)];
const END = Buffer.alloc(1024);

async function collect(tar: Buffer, chunkSize = tar.length): Promise<{ path: string; type: string; content?: string; linkTarget?: string; mtime?: unknown }[]> {
  const parts: Buffer[] = [];
  for (let o = 0; o < tar.length; o += chunkSize) parts.push(tar.subarray(o, o + chunkSize));
  const out = [];
  for await (const e of tarSource(Readable.from(parts)).entries) {
    let content: string | undefined;
    if (e.content) {
      const bufs: Buffer[] = [];
      for await (const c of e.content) bufs.push(c);
      content = Buffer.concat(bufs).toString();
    }
    out.push({ path: e.path, type: e.type, ...(content !== undefined && { content }), ...(e.linkTarget !== undefined && { linkTarget: e.linkTarget }) });
  }
  return out;
}

describe("tar source", () => {
  it("restores our own archives exactly (pax times, GNU long names and link targets)", async () => {
    const src = path.join(root, "src");
    await makeSample(src);
    const tarFile = path.join(root, "ours.tar");
    await pipeline(createTarPackStream(walkItems([{ name: "ws", root: src }])), createWriteStream(tarFile));
    const stats = await restoreTar(tarFile, path.join(root, "out"));
    expect(stats.refused).toEqual([]);
    expect(await describeTree(path.join(root, "out", "ws"))).toEqual(await describeTree(src));
  });

  for (const format of ["gnu", "pax", "ustar"] as const) {
    it(`restores GNU tar's ${format} format`, async () => {
      const src = path.join(root, "src");
      await makeSample(src);
      if (format === "ustar") {
        // ustar cannot hold names over 255 bytes, link targets over 100 or newlines.
        await rm(path.join(src, "d".repeat(120)), { recursive: true });
        await rm(path.join(src, "long-link"));
        await rm(path.join(src, "with\nnewline.txt"));
      }
      const tarFile = path.join(root, `${format}.tar`);
      execFileSync("tar", ["-cf", tarFile, `--format=${format}`, "-C", src, "."]);
      const stats = await restoreTar(tarFile, path.join(root, "out"));
      expect(stats.refused).toEqual([]);
      expect(stats.skipped).toBe(1); // "./"
      // pax keeps sub-second times; gnu and ustar whole seconds.
      const unit = format === "pax" ? 1 : 1000;
      expect(await describeTree(path.join(root, "out"), unit)).toEqual(await describeTree(src, unit));
    });
  }

  it("GNU tar's hard links become hard links; fifos are refused; nanosecond times from pax", async () => {
    const src = path.join(root, "src");
    await mkdir(src);
    await writeFile(path.join(src, "a"), "shared");
    await link(path.join(src, "a"), path.join(src, "b"));
    execFileSync("mkfifo", [path.join(src, "pipe")]);
    execFileSync("touch", ["-d", "2024-05-06 07:08:09.123456789", path.join(src, "a")]);
    const tarFile = path.join(root, "x.tar");
    execFileSync("tar", ["-cf", tarFile, "--format=pax", "-C", src, "a", "b", "pipe"]);
    const entries: RestoreEntry[] = [];
    for await (const e of tarSource(createReadStream(tarFile)).entries) entries.push(e);
    expect(entries.map((e) => `${e.path} ${e.type} ${e.linkTarget ?? ""}`)).toEqual(["a file ", "b hardlink a", "pipe other "]);
    expect(entries[0]!.mtime!.nsec).toBe(123_456_789);
    const out = path.join(root, "out");
    const stats = await restoreTar(tarFile, out);
    expect(stats.refused).toEqual([{ path: "pipe", reason: "fifo entries are not restored" }]);
    expect((await lstat(path.join(out, "b"))).ino).toBe((await lstat(path.join(out, "a"))).ino);
    expect(await readFile(path.join(out, "b"), "utf8")).toBe("shared");
  });

  it("base-256 numbers (GNU: times before 1970), global pax records, chunks of any size", async () => {
    const before1970 = Buffer.alloc(12);
    before1970.fill(0xff);
    before1970.writeInt32BE(-86400, 8); // 1969-12-31
    const global = "22 mtime=1000000000.5\n";
    const tar = Buffer.concat([
      header("pax_global_header", "g", global.length),
      ...body(global),
      header("old.txt", "0", 3, { mtime: before1970 }),
      ...body("old"),
      ...entry("new.txt", "new"),
      END,
    ]);
    const seen: { path: string; mtime?: { sec: number; nsec: number } }[] = [];
    for await (const e of tarSource(Readable.from([tar])).entries) {
      seen.push({ path: e.path, mtime: e.mtime });
    }
    expect(seen).toEqual([
      { path: "old.txt", mtime: { sec: 1_000_000_000, nsec: 500_000_000 } },
      { path: "new.txt", mtime: { sec: 1_000_000_000, nsec: 500_000_000 } },
    ]);
    const noGlobal = Buffer.concat([header("old.txt", "0", 3, { mtime: before1970 }), ...body("old"), END]);
    for await (const e of tarSource(Readable.from([noGlobal])).entries) expect(e.mtime).toEqual({ sec: -86400, nsec: 0 });
    // The same archive cut into 1-, 7- and 513-byte chunks reads the same.
    const want = await collect(tar);
    for (const size of [1, 7, 513]) expect(await collect(tar, size)).toEqual(want);
  });

  it("content left unread is skipped; data after the end marker is read to the end", async () => {
    let consumed = 0;
    const tar = Buffer.concat([...entry("a", "x".repeat(1000)), ...entry("b", "y".repeat(10)), END, Buffer.alloc(8192)]);
    const stream = Readable.from([tar.subarray(0, 700), tar.subarray(700)]).on("data", (c: Buffer) => (consumed += c.length));
    const paths: string[] = [];
    for await (const e of tarSource(stream).entries) paths.push(e.path); // no content read at all
    expect(paths).toEqual(["a", "b"]);
    expect(consumed).toBe(tar.length);
  });

  it("a corrupt or cut archive is an error, never a short restore", async () => {
    const good = Buffer.concat([...entry("a.txt", "hello"), ...entry("b.bin", "z".repeat(3000)), END]);
    const bad = Buffer.from(good);
    bad[10] = bad[10]! ^ 0x01; // a flipped byte in the first header's name
    await expect(collect(bad)).rejects.toThrow(/corrupt archive: header checksum mismatch at byte 0/);
    await expect(collect(good.subarray(0, 512 + 512 + 512 + 1000))).rejects.toThrow(/corrupt archive: the archive ends inside b\.bin/);
    await expect(collect(good.subarray(0, good.length - 1024))).rejects.toThrow(/no end-of-archive marker/);
    const notNumber = header("x", "0", 0);
    notNumber.write("12345678zz", 124);
    await expect(collect(Buffer.concat([notNumber, END]))).rejects.toThrow(TarFormatError);
    const hugeMeta = Buffer.concat([header("././@LongLink", "L", 5 * 1024 * 1024), END]);
    await expect(collect(hugeMeta)).rejects.toThrow(/metadata record/);
    // Through the writer: the restore fails and the cut file is not left behind.
    const target = path.join(root, "cut");
    await expect(writeEntries(tarSource(Readable.from([good.subarray(0, 512 * 4)])), { target })).rejects.toThrow(/ends inside b\.bin/);
    expect(await readdir(target)).toEqual(["a.txt"]);
  });

  it("a stream that fails before its first entry (a wrong key) leaves the target empty", async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error("wrong passphrase: no identity matched"));
      },
    });
    const target = path.join(root, "t");
    await expect(writeEntries(tarSource(failing), { target })).rejects.toThrow("wrong passphrase");
    expect(await readdir(target)).toEqual([]);
  });

  it("a hostile archive restores nothing outside the target", async () => {
    const outside = path.join(root, "outside");
    await mkdir(outside);
    const tar = Buffer.concat([
      ...entry("../escaped.txt", "x"),
      ...entry(`${outside}/abs.txt`, "x"),
      header("evil", "2", 0, { linkname: outside }),
      ...entry("evil/pwned.txt", "through the link"),
      header("hard", "1", 0, { linkname: "/etc/passwd" }),
      header("dev", "3", 0),
      header("blk", "4", 0),
      header("sparse", "S", 0),
      header("weird", "Z", 0),
      header("label", "V", 0),
      ...entry("fine/ok.txt", "ok"),
      END,
    ]);
    const target = path.join(root, "t");
    const stats = await writeEntries(tarSource(Readable.from([tar])), { target });
    expect(await readdir(outside)).toEqual([]);
    expect(await readFile(path.join(target, "fine/ok.txt"), "utf8")).toBe("ok");
    expect(stats.refused.map((r) => `${r.path}: ${r.reason}`)).toEqual([
      '../escaped.txt: ".." segment',
      `${outside}/abs.txt: absolute path`,
      "evil/pwned.txt: path leads through a symlink",
      "hard: hard link to /etc/passwd: not a file of this restore",
      "dev: character device entries are not restored",
      "blk: block device entries are not restored",
      "sparse: sparse file entries are not restored",
      "weird: tar type 'Z' entries are not restored",
    ]);
  });
});
