import { execFileSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readlink, symlink, utimes, writeFile, chmod, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Header, Pax } from "tar";
import { describe, expect, it } from "vitest";
import { dedupItems, walkItems } from "../../tree-walk.js";
import { restoreReader } from "../../restore/snapshot-source.js";
import { readTarEntries } from "./tar-read.js";
import { createTarPackStream, paxSeconds } from "./tar-pack.js";

/** What a restore does with an archive: its tar entries through the format-neutral writer. */
async function extractTar(stream: Readable, opts: { target: string }) {
  await mkdir(opts.target, { recursive: true });
  const { stats } = await restoreReader({ entries: async (visit) => (await readTarEntries(stream, visit), { storedBytes: 0 }) }, opts.target);
  return stats;
}

const tmp = () => mkdtemp(path.join(os.tmpdir(), "arch-"));

async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(root, r));
      const mt = Math.round(st.mtimeMs);
      if (st.isSymbolicLink()) out[r] = `link ${await readlink(path.join(root, r))}`;
      else if (st.isDirectory()) {
        await walk(r);
        out[r] = `dir ${(st.mode & 0o777).toString(8)} ${mt}`;
      } else out[r] = `file ${(st.mode & 0o777).toString(8)} ${mt} ${(await readFile(path.join(root, r))).toString("base64")}`;
    }
  }
  await walk("");
  return out;
}

async function makeSample(root: string): Promise<void> {
  const long = `${"d".repeat(120)}/${"f".repeat(150)}.txt`;
  const files: Record<string, string | Buffer> = {
    "a.txt": "hello\n",
    "empty": "",
    "sub/deep/b.bin": Buffer.alloc(3 * 1024 * 1024 + 5, 7),
    "ünïcødé name.md": "unicode\n",
    "with\nnewline.txt": "nl\n",
    [long]: "long path\n",
  };
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
  await mkdir(path.join(root, "empty-dir"));
  await chmod(path.join(root, "a.txt"), 0o600);
  await chmod(path.join(root, "sub/deep/b.bin"), 0o755);
  await symlink("a.txt", path.join(root, "link-to-a"));
  await symlink("/etc/hostname", path.join(root, "abs-link"));
  const t = new Date("2024-05-06T07:08:09.123Z");
  for (const rel of Object.keys(files)) await utimes(path.join(root, rel), t, t);
  for (const d of ["sub/deep", "sub", "empty-dir", `${"d".repeat(120)}`]) await utimes(path.join(root, d), t, t);
}

async function pack(items: { name: string; root: string; exclude?: string[] }[], file: string): Promise<void> {
  await pipeline(createTarPackStream(walkItems(items)), createWriteStream(file));
}

describe("archive round trip", () => {
  it("restores contents, modes, mtimes, symlinks, empty files and folders, long/unicode/newline names", async () => {
    const src = await tmp();
    await makeSample(src);
    const out = await tmp();
    const tarFile = path.join(out, "x.tar");
    await pack([{ name: "workspace", root: src }], tarFile);
    const dest = path.join(out, "restore");
    const res = await extractTar(createReadStream(tarFile), { target: dest });
    expect(res.refused).toEqual([]);
    expect(await snapshot(path.join(dest, "workspace"))).toEqual(await snapshot(src));
  });

  it("pax seconds keep microseconds and never round into another second", () => {
    expect(paxSeconds(1714979289123)).toBe("1714979289.123000");
    expect(paxSeconds(1714979289999.9995)).toBe("1714979289.999999");
    expect(paxSeconds(0)).toBe("0.000000");
    expect(paxSeconds(-1250)).toBe("-1.250000");
    expect(paxSeconds(-2000)).toBe("-2.000000");
  });

  it("a sub-second mtime just under a whole second stays in that second (never rounded up)", async () => {
    const src = await tmp();
    const times = [1714979289.9996, 1714979289.9999995, 1714979290.0004];
    for (const [i, t] of times.entries()) {
      await writeFile(path.join(src, `f${i}`), "x");
      await utimes(path.join(src, `f${i}`), t, t);
    }
    const out = await tmp();
    const tarFile = path.join(out, "x.tar");
    await pack([{ name: "w", root: src }], tarFile);
    await extractTar(createReadStream(tarFile), { target: path.join(out, "r") });
    for (const i of times.keys()) {
      const live = (await lstat(path.join(src, `f${i}`))).mtimeMs;
      const restored = (await lstat(path.join(out, "r", "w", `f${i}`))).mtimeMs;
      expect(Math.floor(restored / 1000), `f${i}`).toBe(Math.floor(live / 1000));
      expect(restored).toBeLessThanOrEqual(live);
      expect(live - restored).toBeLessThan(1);
    }
  });

  it("interoperates with GNU tar both ways", async () => {
    const src = await tmp();
    await makeSample(src);
    const out = await tmp();
    const ours = path.join(out, "ours.tar");
    await pack([{ name: "ws", root: src }], ours);
    await mkdir(path.join(out, "gnu"));
    execFileSync("tar", ["-xf", ours, "-C", path.join(out, "gnu")]);
    expect(await snapshot(path.join(out, "gnu", "ws"))).toEqual(await snapshot(src));
    const theirs = path.join(out, "theirs.tar");
    execFileSync("tar", ["-cf", theirs, "--format=pax", "-C", src, "."]);
    await extractTar(createReadStream(theirs), { target: path.join(out, "from-gnu") });
    expect(await snapshot(path.join(out, "from-gnu"))).toEqual(await snapshot(src));
  });

  it("excludes and overlapping items (archived once)", async () => {
    const src = await tmp();
    await mkdir(path.join(src, "memory"), { recursive: true });
    await mkdir(path.join(src, "node_modules/x"), { recursive: true });
    await writeFile(path.join(src, "memory/m.md"), "m");
    await writeFile(path.join(src, "node_modules/x/i.js"), "x");
    await writeFile(path.join(src, "keep.log"), "x");
    const items = [
      { name: "workspace", root: src, exclude: ["node_modules/**", "*.log"] },
      { name: "memory", root: path.join(src, "memory") },
    ];
    expect(dedupItems(items).map((i) => i.name)).toEqual(["workspace"]);
    const paths: string[] = [];
    for await (const e of walkItems(items)) paths.push(e.archivePath);
    expect(paths).toEqual(["workspace", "workspace/memory", "workspace/memory/m.md"]);
  });
});

function rawEntry(name: string, type: string, body = "", linkpath?: string): Buffer {
  const h = new Header({ path: name, type: type as never, size: body.length, mode: 0o644, mtime: new Date(), linkpath });
  h.encode();
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([h.block!, Buffer.from(body), pad]);
}

describe("hostile archives", () => {
  it("writes nothing outside the target and reports every refusal", async () => {
    const root = await tmp();
    const outside = path.join(root, "outside");
    const target = path.join(root, "target");
    const evil = Buffer.concat([
      rawEntry("../escaped.txt", "File", "x"),
      rawEntry("a/../../escaped2.txt", "File", "x"),
      rawEntry(`${outside}/abs.txt`, "File", "x"),
      rawEntry("evil", "SymbolicLink", "", outside),
      rawEntry("evil/pwned.txt", "File", "through the link"),
      rawEntry("hard", "Link", "", "/etc/passwd"),
      rawEntry("dev", "CharacterDevice"),
      rawEntry("fifo", "FIFO"),
      rawEntry("fine/ok.txt", "File", "ok"),
      Buffer.alloc(1024),
    ]);
    await mkdir(outside);
    const res = await extractTar(Readable.from([evil]), { target });
    expect(await readdir(outside)).toEqual([]);
    expect(existsSync(path.join(root, "escaped.txt"))).toBe(false);
    expect(existsSync(path.join(root, "escaped2.txt"))).toBe(false);
    expect(await readFile(path.join(target, "fine/ok.txt"), "utf8")).toBe("ok");
    const reasons = res.refused.map((r) => `${r.path}: ${r.reason}`).join("\n");
    for (const p of ["../escaped.txt", "a/../../escaped2.txt", "abs.txt", "evil/pwned.txt", "hard", "dev", "fifo"]) expect(reasons).toContain(p);
    void Pax;
  });

  it("a truncated archive rejects and leaves no complete-looking partial file", async () => {
    const src = await tmp();
    await writeFile(path.join(src, "big.bin"), Buffer.alloc(2 * 1024 * 1024, 1));
    const out = await tmp();
    const tarFile = path.join(out, "x.tar");
    await pack([{ name: "w", root: src }], tarFile);
    const cut = (await readFile(tarFile)).subarray(0, 1024 * 1024);
    const target = path.join(out, "restore");
    await expect(extractTar(Readable.from([cut]), { target })).rejects.toThrow();
    const left = existsSync(path.join(target, "w")) ? await readdir(path.join(target, "w")) : [];
    expect(left.filter((n) => n === "big.bin")).toEqual([]);
  });
});

describe("files that change while they are archived", () => {
  /** Entries as the walk saw them, then the files shrink before the packer reads them. */
  async function* stale(root: string, sizes: Record<string, number>) {
    for (const [name, size] of Object.entries(sizes)) {
      yield { archivePath: `w/${name}`, absPath: path.join(root, name), type: "file" as const, size, mode: 0o644, mtimeMs: 1_700_000_000_000 };
    }
  }

  it("a small file that shrank is stored as it is now (its header states what was read), never padded", async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, "log.txt"), "short now\n");
    const file = path.join(dir, "a.tar");
    await pipeline(createTarPackStream(stale(dir, { "log.txt": 5000 })), createWriteStream(file));
    const out = path.join(dir, "out");
    const result = await extractTar(Readable.from(await readFile(file)), { target: out });
    expect(result.files).toBe(1);
    expect(await readFile(path.join(out, "w/log.txt"), "utf8")).toBe("short now\n");
  });

  it("a large file that shrank while streamed fails the archive instead of committing zeros", async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, "big.bin"), Buffer.alloc(600 * 1024, 1));
    const run = pipeline(createTarPackStream(stale(dir, { "big.bin": 2 * 1024 * 1024 })), createWriteStream(path.join(dir, "b.tar")));
    await expect(run).rejects.toThrow(/big\.bin shrank from 2097152 to 614400 bytes .*no snapshot was committed/);
  });
});
