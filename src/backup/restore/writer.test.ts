import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RestoreEntry, RestoreSource, Time } from "./entry.js";
import { createsWhole, writeEntries as writeWith, type WriteOptions, type WriteStats } from "./writer.js";
import { inlineWriter, smallFileWriter, type SmallFileWriter } from "./file-writers.js";
import { newRandomKey } from "../formats/repository/crypto.js";
import { workerDecoder } from "../formats/repository/decode-pool.js";
import { handOver } from "../../util/release-buffer.js";
import { restoredSignature, signatureOf } from "../restore-diff.js";

let root: string;
let target: string;
let outside: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "ws-writer-"));
  target = path.join(root, "target");
  outside = path.join(root, "outside");
  await mkdir(outside);
});
afterEach(() => rm(root, { recursive: true, force: true }));

// Every case runs twice: small files written by the calling thread, and by the file writer's thread (the built worker,
// as the CLI and the plugin run it).
const BUILT_WORKER = path.resolve(import.meta.dirname, "../../../dist/backup/formats/repository/decode-worker.js");
const onDecoderThread = (): SmallFileWriter => {
  const decoder = workerDecoder(newRandomKey(), { file: BUILT_WORKER });
  const port = decoder.filePort?.();
  decoder.close(); // its thread lives on until the writer is done with it
  return smallFileWriter({ port });
};
const writers: [string, () => SmallFileWriter][] = [
  ["small files on this thread", inlineWriter],
  ["small files on a helper thread", onDecoderThread],
];
let makeWriter: () => SmallFileWriter = inlineWriter;
const writeEntries = (src: RestoreSource, opts: WriteOptions) => writeWith(src, { fileWriter: makeWriter, ...opts });

const T: Time = { sec: 1_714_979_289, nsec: 123_456_789 };

async function* chunks(data: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, o + size);
}

function file(p: string, data: Buffer | string, extra: Partial<RestoreEntry> = {}): RestoreEntry {
  const buf = Buffer.from(data);
  return { path: p, type: "file", mode: 0o644, mtime: T, size: buf.length, content: chunks(buf), ...extra };
}
const dir = (p: string, extra: Partial<RestoreEntry> = {}): RestoreEntry => ({ path: p, type: "dir", mode: 0o755, mtime: T, size: 0, ...extra });
const symlinkTo = (p: string, to: string): RestoreEntry => ({ path: p, type: "symlink", mode: 0o777, mtime: T, size: 0, linkTarget: to });
const hardlink = (p: string, to: string): RestoreEntry => ({ path: p, type: "hardlink", mode: 0o644, mtime: T, size: 0, linkTarget: to });

/** A source in snapshot order; sequential sources check that the writer read each content before pulling the next. */
function source(entries: RestoreEntry[], sequential = true): RestoreSource {
  async function* gen() {
    for (const e of entries) {
      let reading = false;
      const content = e.content;
      if (content && sequential) {
        e.content = (async function* () {
          reading = true;
          yield* content;
          reading = false;
        })();
      }
      yield e;
      if (reading) throw new Error(`the writer pulled the next entry while ${e.path} was being read`);
    }
  }
  return { entries: gen(), sequential };
}

async function tree(dirPath: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string) {
    for (const name of (await readdir(path.join(dirPath, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(dirPath, r));
      out.push(st.isDirectory() ? `${r}/` : st.isSymbolicLink() ? `${r} -> ${await readlink(path.join(dirPath, r))}` : r);
      if (st.isDirectory()) await walk(r);
    }
  }
  await walk("");
  return out;
}

describe.each(writers)("restore writer (%s)", (_name, make) => {
  beforeEach(() => {
    makeWriter = make;
  });
  it("uses the writer it is meant to (the built worker exists: npm test builds first)", async () => {
    expect(existsSync(BUILT_WORKER)).toBe(true);
    const w = make();
    expect(w.threaded).toBe(make !== inlineWriter);
    await w.close();
  });

  it("frees each chunk its source handed over once it is written (small files, large ones, several chunks), and nothing else", async () => {
    // A copy with memory of its own (Buffer.alloc never slices the pool), as a decoded blob.
    const owned = (data: Buffer) => {
      const own = Buffer.alloc(data.length);
      data.copy(own);
      return handOver(own);
    };
    const small = randomBytes(5000);
    const parts = [randomBytes(3000), randomBytes(2000)];
    const large = [randomBytes(300_000), randomBytes(200_000)];
    const given = [owned(small), ...parts.map(owned), ...large.map(owned)];
    const kept = Buffer.from(randomBytes(4000)); // not handed over: the writer leaves it alone
    const keptCopy = Buffer.from(kept);
    const entry = (p: string, bufs: Buffer[]): RestoreEntry => ({
      path: p,
      type: "file",
      mode: 0o644,
      mtime: T,
      size: bufs.reduce((n, b) => n + b.length, 0),
      content: (async function* () {
        yield* bufs;
      })(),
    });
    const stats = await writeEntries(
      source([dir("ws"), entry("ws/small", [given[0]!]), entry("ws/two", [given[1]!, given[2]!]), entry("ws/large", [given[3]!, given[4]!]), entry("ws/kept", [kept])]),
      { target, smallFileBytes: 64 * 1024 },
    );
    expect(stats).toMatchObject({ files: 4, bytes: 5000 + 5000 + 500_000 + 4000, refused: [] });
    expect(given.map((b) => b.length)).toEqual([0, 0, 0, 0, 0]);
    expect(kept.equals(keptCopy)).toBe(true);
    const ws = path.join(target, "ws");
    expect((await readFile(path.join(ws, "small"))).equals(small)).toBe(true);
    expect((await readFile(path.join(ws, "two"))).equals(Buffer.concat(parts))).toBe(true);
    expect((await readFile(path.join(ws, "large"))).equals(Buffer.concat(large))).toBe(true);
    expect((await readFile(path.join(ws, "kept"))).equals(keptCopy)).toBe(true);
  });

  it("writes small and large files, folders, symlinks, hard links, empty files with their modes and times", async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const stats = await writeEntries(
      source([
        dir("ws"),
        file("ws/a.txt", "hello\n", { mode: 0o600 }),
        file("ws/empty", ""),
        file("ws/sub/deep/big.bin", big, { mode: 0o755 }),
        file("ws/ünïcødé name.md", "unicode\n"),
        file("ws/with\nnewline.txt", "nl\n"),
        dir("ws/empty-dir", { mode: 0o700 }),
        dir("ws/ro", { mode: 0o555 }),
        file("ws/ro/inside.txt", "in a read-only folder"),
        symlinkTo("ws/link-to-a", "a.txt"),
        symlinkTo("ws/abs-link", "/etc/hostname"),
        hardlink("ws/hard-a", "ws/a.txt"),
      ]),
      { target },
    );
    expect(stats).toMatchObject({ files: 6, dirs: 3, symlinks: 2, hardlinks: 1, bytes: 6 + big.length + 8 + 3 + 21, refused: [] });
    const ws = path.join(target, "ws");
    expect(await readFile(path.join(ws, "a.txt"), "utf8")).toBe("hello\n");
    expect((await stat(path.join(ws, "a.txt"))).mode & 0o7777).toBe(0o600);
    expect(createHash("sha256").update(await readFile(path.join(ws, "sub/deep/big.bin"))).digest("hex")).toBe(createHash("sha256").update(big).digest("hex"));
    expect((await stat(path.join(ws, "sub/deep/big.bin"))).mode & 0o7777).toBe(0o755);
    expect((await stat(path.join(ws, "empty"))).size).toBe(0);
    expect(await readFile(path.join(ws, "with\nnewline.txt"), "utf8")).toBe("nl\n");
    expect(await readlink(path.join(ws, "link-to-a"))).toBe("a.txt");
    expect(await readlink(path.join(ws, "abs-link"))).toBe("/etc/hostname");
    expect((await stat(path.join(ws, "hard-a"))).ino).toBe((await stat(path.join(ws, "a.txt"))).ino);
    expect((await stat(path.join(ws, "empty-dir"))).mode & 0o7777).toBe(0o700);
    expect((await stat(path.join(ws, "ro"))).mode & 0o7777).toBe(0o555);
    expect(await readFile(path.join(ws, "ro/inside.txt"), "utf8")).toBe("in a read-only folder");
    // Times to the microsecond (a double of seconds cannot carry all nine digits); folders' after their contents.
    for (const p of ["a.txt", "sub/deep/big.bin", "ro", "empty-dir", "."]) {
      const st = await stat(path.join(ws, p), { bigint: true });
      expect(Number(st.mtimeNs / 1000n), p).toBe(T.sec * 1e6 + Math.floor(T.nsec / 1000));
    }
    expect((await lstat(path.join(ws, "link-to-a"))).mtimeMs).toBeCloseTo(T.sec * 1000 + T.nsec / 1e6, 0);
  });

  it("refuses every entry that would land outside the target or go through something written earlier", async () => {
    const stats = await writeEntries(
      source([
        file("../escaped.txt", "x"),
        file("a/../../escaped2.txt", "x"),
        file(`${outside}/abs.txt`, "x"),
        file("C:\\windows\\x.txt", "x"),
        file("nul\0byte", "x"),
        symlinkTo("evil", outside),
        file("evil/pwned.txt", "through the link"),
        dir("evil/sub"),
        symlinkTo("evil2", outside),
        symlinkTo("evil2/nested", "x"),
        file("plain.txt", "a file"),
        file("plain.txt/under-a-file", "x"),
        hardlink("hard-etc", "/etc/passwd"),
        hardlink("hard-up", "../outside/x"),
        hardlink("hard-link", "evil"),
        hardlink("hard-missing", "never/restored.txt"),
        { path: "dev", type: "other", kind: "character device", mode: 0o644, size: 0 },
        { path: "fifo", type: "other", kind: "fifo", mode: 0o644, size: 0 },
        file("fine/ok.txt", "ok"),
      ]),
      { target },
    );
    expect(await readdir(outside)).toEqual([]);
    expect(existsSync(path.join(root, "escaped.txt"))).toBe(false);
    expect(existsSync(path.join(root, "escaped2.txt"))).toBe(false);
    expect(await readFile(path.join(target, "fine/ok.txt"), "utf8")).toBe("ok");
    const reasons = Object.fromEntries(stats.refused.map((r) => [r.path, r.reason]));
    expect(reasons).toEqual({
      "../escaped.txt": '".." segment',
      "a/../../escaped2.txt": '".." segment',
      [`${outside}/abs.txt`]: "absolute path",
      "C:\\windows\\x.txt": "absolute path",
      "nul\0byte": "NUL in path",
      "evil/pwned.txt": "path leads through a symlink",
      "evil/sub": "path leads through a symlink",
      "evil2/nested": "path leads through a symlink",
      "plain.txt/under-a-file": "path leads through a file",
      "hard-etc": expect.stringContaining("not a file of this restore"),
      "hard-up": expect.stringContaining("not a file of this restore"),
      "hard-link": expect.stringContaining("not a file restored earlier"),
      "hard-missing": expect.stringContaining("not a file restored earlier"),
      dev: "character device entries are not restored",
      fifo: "fifo entries are not restored",
    });
    expect(await tree(target)).toEqual(["evil -> " + outside, "evil2 -> " + outside, "fine/", "fine/ok.txt", "plain.txt"]);
  });

  it("a later entry of the same path replaces the earlier one and never writes through a symlink", async () => {
    await writeFile(path.join(outside, "victim.txt"), "untouched");
    const stats = await writeEntries(
      source([
        symlinkTo("x", path.join(outside, "victim.txt")),
        file("x", "replaces the link"),
        file("y", "first"),
        file("y", "second, longer"),
        file("z", "a file first"),
        symlinkTo("z", "elsewhere"),
        dir("d"),
        file("d", "refused: a folder is there"),
        symlinkTo("d", "refused too"),
        file("f", "a file"),
        dir("f"),
      ]),
      { target },
    );
    expect(await readFile(path.join(outside, "victim.txt"), "utf8")).toBe("untouched");
    expect(await readFile(path.join(target, "x"), "utf8")).toBe("replaces the link");
    expect((await lstat(path.join(target, "x"))).isFile()).toBe(true);
    expect(await readFile(path.join(target, "y"), "utf8")).toBe("second, longer");
    expect(await readlink(path.join(target, "z"))).toBe("elsewhere");
    expect(stats.refused.map((r) => `${r.path}: ${r.reason}`)).toEqual([
      "d: a folder already exists at this path",
      "d: a folder already exists at this path",
      "f: a file or symlink of this path came earlier in the snapshot",
    ]);
  });

  it("random-access sources: entries read at the same time, same-path order kept, all contents intact", async () => {
    const sizes = Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? 600_000 + i : (i * 7919) % 20_000));
    const datas = sizes.map((s, i) => Buffer.alloc(s, i % 251));
    // Contents arrive in a scrambled order (each waits a little, the later ones less).
    const slow = (data: Buffer, i: number): AsyncIterable<Buffer> =>
      (async function* () {
        await new Promise((r) => setTimeout(r, (300 - i) % 7));
        yield* chunks(data, 100_000);
      })();
    const entries: RestoreEntry[] = datas.map((d, i) => ({ ...file(`r/d${i % 10}/f${i}`, d), content: slow(d, i) }));
    entries.push({ ...file("r/same", "first version, long"), content: slow(Buffer.from("first version, long"), 0) });
    entries.push({ ...file("r/same", "second"), content: slow(Buffer.from("second"), 299) });
    entries.push(hardlink("r/link-to-f1", "r/d1/f1"));
    let inFlight = 0;
    let maxInFlight = 0;
    for (const e of entries) {
      const inner = e.content;
      if (!inner) continue;
      e.content = (async function* () {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        yield* inner;
        inFlight--;
      })();
    }
    const stats = await writeEntries(source(entries, false), { target, concurrency: 8 });
    expect(stats.refused).toEqual([]);
    expect(stats.files).toBe(302);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(8);
    for (let i = 0; i < datas.length; i++) expect((await readFile(path.join(target, `r/d${i % 10}/f${i}`))).equals(datas[i]!), `f${i}`).toBe(true);
    expect(await readFile(path.join(target, "r/same"), "utf8")).toBe("second");
    expect((await stat(path.join(target, "r/link-to-f1"))).ino).toBe((await stat(path.join(target, "r/d1/f1"))).ino);
  });

  it("folders given up front exist before the first entry is pulled; unsafe or filtered ones are not made", async () => {
    const folders = ["ws", "ws/a", "ws/a/b", "ws/c", "ws/empty", "../escape", "/abs", "ws/../up", "ws/skip", "ws/skip/inner", "."];
    let atFirstPull: string[] | undefined;
    const entries = (async function* () {
      atFirstPull = await tree(target);
      yield dir("ws");
      yield dir("ws/a");
      yield file("ws/a/b/x.txt", "x");
      yield dir("ws/c", { mode: 0o700 });
      yield file("ws/c/y.txt", "y");
      yield file("ws/skip/inner/z.txt", "z");
    })();
    const stats = await writeEntries({ entries, sequential: true }, { target, folders, filter: (rel) => !rel.startsWith("ws/skip") });
    expect(atFirstPull).toEqual(["ws/", "ws/a/", "ws/a/b/", "ws/c/", "ws/empty/"]);
    expect(await tree(target)).toEqual(["ws/", "ws/a/", "ws/a/b/", "ws/a/b/x.txt", "ws/c/", "ws/c/y.txt", "ws/empty/"]);
    expect(await readdir(outside)).toEqual([]);
    expect(existsSync(path.join(root, "escape"))).toBe(false);
    // Folders count when their entries come (ws/empty had none in this stream); their modes are still the entries'.
    expect(stats).toMatchObject({ files: 2, dirs: 3, refused: [] });
    expect((await stat(path.join(target, "ws/c"))).mode & 0o777).toBe(0o700);
  });

  it("a source failing inside a file stops the restore with its error and leaves no partial file", async () => {
    for (const size of [1000, 2 * 1024 * 1024]) {
      const t = path.join(root, `t${size}`);
      const failing: RestoreEntry = {
        path: "ws/cut.bin",
        type: "file",
        mode: 0o644,
        size,
        content: (async function* () {
          yield Buffer.alloc(size / 2);
          throw new Error("connection reset by peer");
        })(),
      };
      let pulledAfter = false;
      const entries = (async function* () {
        yield file("ws/before.txt", "ok");
        yield failing;
        pulledAfter = true;
        yield file("ws/after.txt", "never");
      })();
      await expect(writeEntries({ entries, sequential: true }, { target: t })).rejects.toThrow("connection reset by peer");
      expect(pulledAfter).toBe(false);
      expect(await readdir(path.join(t, "ws"))).toEqual(["before.txt"]);
    }
  });

  it("content that does not match the entry's size is an error, not a short file", async () => {
    const short: RestoreEntry = { path: "s", type: "file", mode: 0o644, size: 10, content: chunks(Buffer.alloc(4)) };
    await expect(writeEntries(source([short]), { target })).rejects.toThrow(/ended inside this file \(4 of 10 bytes\)/);
    const long: RestoreEntry = { path: "l", type: "file", mode: 0o644, size: 300_000, content: chunks(Buffer.alloc(400_000)) };
    await expect(writeEntries(source([long]), { target: path.join(root, "t2") })).rejects.toThrow(/more content than its 300000 bytes/);
    expect(await readdir(path.join(root, "t2"))).toEqual([]);
  });

  it("reports each file and symlink it put in place, and nothing it refused; the restore's signature of each equals its lstat's", async () => {
    const written = new Map<string, RestoreEntry>();
    const entries = [
      dir("ws"),
      file("ws/a.txt", "hello\n"),
      file("ws/big.bin", randomBytes(600_000)),
      file("ws/no-time", "x", { mtime: undefined }),
      symlinkTo("ws/ln", "a.txt"),
      symlinkTo("ws/out", outside),
      file("ws/out/x", "through a symlink"),
      file("../up", "x"),
      dir("ws/a.txt"),
    ];
    const stats = await writeEntries(source(entries), { target, onWritten: (rel, e) => void written.set(rel, e) });
    expect(stats.refused.map((r) => r.path)).toEqual(["ws/out/x", "../up", "ws/a.txt"]);
    expect([...written.keys()].sort()).toEqual(["ws/a.txt", "ws/big.bin", "ws/ln", "ws/no-time", "ws/out"]);
    for (const [rel, e] of written) {
      const st = await lstat(path.join(target, rel));
      const type = st.isSymbolicLink() ? "symlink" : "file";
      const onDisk = signatureOf({ type, size: type === "file" ? st.size : 0, mtimeMs: st.mtimeMs, ...(type === "symlink" ? { linkTarget: await readlink(path.join(target, rel)) } : {}) });
      // Written now, without a time of the snapshot's: compared equal to no live file.
      if (rel === "ws/no-time") expect(restoredSignature(e)).toBe(`file 1 NaN `);
      else expect(restoredSignature(e), rel).toBe(onDisk);
    }
    const dry = new Map<string, RestoreEntry>();
    await writeEntries(source([dir("w"), file("w/a", "x")]), { target: path.join(root, "dry"), dryRun: true, onWritten: (rel, e) => void dry.set(rel, e) });
    expect(dry.size).toBe(0);
  });

  it("a dry run reads no content, writes nothing and reports the same refusals", async () => {
    let read = false;
    const content = (async function* () {
      read = true;
      yield Buffer.from("x");
    })();
    const stats = await writeEntries(
      source([dir("w"), { ...file("w/a", "x"), content }, symlinkTo("w/l", outside), file("w/l/x", "x"), file("../up", "x"), hardlink("w/h", "w/a")]),
      { target, dryRun: true },
    );
    expect(read).toBe(false);
    expect(existsSync(target)).toBe(false);
    expect(stats).toMatchObject({ files: 1, dirs: 1, symlinks: 1, hardlinks: 1, bytes: 1 });
    expect(stats.refused.map((r) => r.path)).toEqual(["w/l/x", "../up"]);
  });

  it("filter, the root entry, progress and the listing callback", async () => {
    const seen: string[] = [];
    const progress: Pick<WriteStats, "files" | "bytes">[] = [];
    const stats = await writeEntries(
      source([dir("./"), dir("ws"), file("ws/keep/a", "aa"), file("ws/drop/b", "bb"), file("ws/keep/big", Buffer.alloc(700_000))]),
      { target, filter: (p) => !p.startsWith("ws/drop"), onEntry: (p) => seen.push(p), onProgress: (s) => progress.push({ files: s.files, bytes: s.bytes }) },
    );
    expect(stats).toMatchObject({ files: 2, skipped: 2, bytes: 700_002 });
    expect(seen).toEqual(["ws", "ws/keep/a", "ws/keep/big"]);
    expect(await tree(target)).toEqual(["ws/", "ws/keep/", "ws/keep/a", "ws/keep/big"]);
    expect(progress.at(-1)).toEqual({ files: 2, bytes: 700_002 });
    expect(progress.length).toBeGreaterThan(2); // the large file reports as it goes
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytes).toBeGreaterThanOrEqual(progress[i - 1]!.bytes);
  });

  it("only fills an empty folder, and stops on abort", async () => {
    await mkdir(target);
    await writeFile(path.join(target, "there.txt"), "x");
    await expect(writeEntries(source([file("a", "x")]), { target })).rejects.toThrow(/not empty/);
    const ac = new AbortController();
    const entries = (async function* () {
      yield file("one", "1");
      ac.abort(new Error("interrupted"));
      yield file("two", "2");
    })();
    const t2 = path.join(root, "t2");
    await expect(writeEntries({ entries, sequential: true }, { target: t2, signal: ac.signal })).rejects.toThrow("interrupted");
    expect(await readdir(t2)).toEqual(["one"]);
  });

  it("many small files, with the special bits dropped unless kept", async () => {
    const entries: RestoreEntry[] = [];
    for (let i = 0; i < 2000; i++) entries.push(file(`m/d${i % 40}/n${i}.md`, `note ${i}\n`.repeat(i % 30)));
    entries.push(file("m/suid", "x", { mode: 0o4755 }));
    const stats = await writeEntries(source(entries), { target });
    expect(stats.files).toBe(2001);
    expect((await readdir(path.join(target, "m/d7"))).length).toBe(50);
    expect(await readFile(path.join(target, "m/d3/n1283.md"), "utf8")).toBe("note 1283\n".repeat(1283 % 30));
    expect((await stat(path.join(target, "m/suid"))).mode & 0o7777).toBe(0o755);
    const kept = path.join(root, "kept");
    await writeEntries(source([file("suid", "x", { mode: 0o4755 })]), { target: kept, keepSpecialBits: true });
    expect((await stat(path.join(kept, "suid"))).mode & 0o7777).toBe(0o4755);
  });

  it("small files get their exact mode whatever the umask would cut (given at creation only when nothing is cut)", async () => {
    expect(createsWhole(0o644, 0o022)).toBe(true);
    expect(createsWhole(0o600, 0o022)).toBe(true);
    expect(createsWhole(0o664, 0o022)).toBe(false);
    expect(createsWhole(0o644, 0o077)).toBe(false);
    expect(createsWhole(0o4755, 0o022)).toBe(false);
    expect(createsWhole(0o1644, 0)).toBe(false);
    expect(createsWhole(0o644, undefined)).toBe(false);
    const modes = [0o644, 0o600, 0o666, 0o664, 0o777, 0o755, 0o400, 0o000];
    const saved = process.umask(0o027);
    try {
      await writeEntries(source(modes.map((m) => file(`u/m${m.toString(8)}`, "x", { mode: m }))), { target });
    } finally {
      process.umask(saved);
    }
    for (const m of modes) expect((await stat(path.join(target, `u/m${m.toString(8)}`))).mode & 0o7777, m.toString(8)).toBe(m);
  });

  it("a full disk stops the restore with ENOSPC (a 1 MiB tmpfs; needs root)", async (ctx) => {
    const mnt = path.join(root, "small");
    await mkdir(mnt);
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt], { stdio: "pipe" });
    } catch {
      ctx.skip();
    }
    try {
      const entries = [file("a.txt", "fits"), file("big.bin", randomBytes(3 * 1024 * 1024)), file("after.txt", "never")];
      await expect(writeEntries(source(entries), { target: path.join(mnt, "t") })).rejects.toMatchObject({ code: "ENOSPC" });
      expect(await readdir(path.join(mnt, "t"))).toEqual(["a.txt"]); // the partial file is gone
      const small = Array.from({ length: 400 }, (_, i) => file(`s/f${i}`, randomBytes(8000)));
      await expect(writeEntries(source(small), { target: path.join(mnt, "t2") })).rejects.toMatchObject({ code: "ENOSPC" });
    } finally {
      execFileSync("umount", [mnt], { stdio: "pipe" });
    }
  });
});
