import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { handOver } from "../../util/release-buffer.js";
import { newRandomKey } from "../formats/repository/crypto.js";
import { workerDecoder } from "../formats/repository/decode-pool.js";
import { inlineWriter, smallFileWriter, type SmallFileWriter } from "./file-writers.js";

// The helper thread a restore has: the repository decoder's, running the built module (npm test builds first), as
// the CLI and the plugin do.
const BUILT = path.resolve(import.meta.dirname, "../../../dist/backup/formats/repository/decode-worker.js");

/** A writer on a decoder's thread; the decoder is closed at once (its thread lives until the writer is done too). */
function onDecoderThread(file = BUILT): SmallFileWriter {
  const decoder = workerDecoder(newRandomKey(), { file });
  const port = decoder.filePort?.();
  decoder.close();
  return smallFileWriter({ port });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "ws-file-writers-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const owned = (data: Buffer): Buffer => {
  const own = Buffer.alloc(data.length);
  data.copy(own);
  return handOver(own);
};

describe("small-file writer on a thread", () => {
  it("writes many files in batches with their bytes, modes and times; handed-over memory is taken, the rest copied", async () => {
    const w = onDecoderThread();
    expect(w.threaded).toBe(true);
    const files = Array.from({ length: 400 }, (_, i) => ({ name: `f${i}`, data: randomBytes((i * 7919) % 200_000), own: i % 2 === 0 }));
    const given: Buffer[] = [];
    const written: Promise<void>[] = [];
    for (const [i, f] of files.entries()) {
      const data = f.own ? owned(f.data) : Buffer.from(f.data);
      given.push(data);
      await w.room();
      written.push(w.write({ dest: path.join(dir, f.name), mode: i % 3 === 0 ? 0o600 : 0o644, atCreate: i % 3 !== 0, mtime: 1_700_000_000.5, atime: 1_600_000_000 }, data));
    }
    await Promise.all(written);
    await w.close();
    for (const [i, f] of files.entries()) {
      const p = path.join(dir, f.name);
      const st = statSync(p); // before the read, which may move the access time (relatime)
      expect(st.mode & 0o777).toBe(i % 3 === 0 ? 0o600 : 0o644);
      expect(st.mtimeMs).toBe(1_700_000_000_500);
      expect(st.atimeMs).toBe(1_600_000_000_000);
      expect(readFileSync(p).equals(f.data), f.name).toBe(true);
    }
    // Handed-over buffers moved to the thread (empty here now); the others are the caller's, untouched.
    for (const [i, f] of files.entries()) expect(given[i]!.length).toBe(f.own && f.data.length > 0 ? 0 : f.data.length);
  });

  it("answers each file's failure with its system call's error and writes the others", async () => {
    writeFileSync(path.join(dir, "taken"), "already here");
    const w = onDecoderThread();
    const results = await Promise.allSettled([
      w.write({ dest: path.join(dir, "a"), mode: 0o644, atCreate: true }, Buffer.from("a")),
      w.write({ dest: path.join(dir, "taken"), mode: 0o644, atCreate: true }, Buffer.from("b")),
      w.write({ dest: path.join(dir, "no-such-folder", "c"), mode: 0o644, atCreate: true }, Buffer.from("c")),
      w.write({ dest: path.join(dir, "d"), mode: 0o644, atCreate: true }, Buffer.from("d")),
    ]);
    await w.close();
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: "EEXIST", syscall: "open" });
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: "ENOENT", syscall: "open" });
    expect(readFileSync(path.join(dir, "taken"), "utf8")).toBe("already here");
    expect(readFileSync(path.join(dir, "d"), "utf8")).toBe("d");
  });

  it("holds the writer back while 1 MiB is queued, and lets it go on as batches are written", async () => {
    const w = onDecoderThread();
    const written: Promise<void>[] = [];
    let waited = 0;
    for (let i = 0; i < 40; i++) {
      const room = w.room();
      if (room) {
        waited++;
        await room;
      }
      // Handed over: a batch then takes two files (400 KB), and two batches on their way plus one filling pass 1 MiB.
      written.push(w.write({ dest: path.join(dir, `big${i}`), mode: 0o644, atCreate: true }, owned(Buffer.alloc(200_000, i))));
    }
    await Promise.all(written);
    await w.close();
    expect(waited).toBeGreaterThan(0);
    for (let i = 0; i < 40; i++) expect(readFileSync(path.join(dir, `big${i}`)).equals(Buffer.alloc(200_000, i))).toBe(true);
  });

  it("a thread two batches behind: the next batch is written on the calling thread, its memory freed there", async () => {
    // A helper that holds its batches until the test lets it go (as a decoder busy with blobs would hold them).
    const slow = path.join(dir, "slow-worker.mjs");
    const go = path.join(dir, "go");
    const batches = pathToFileURL(path.resolve(import.meta.dirname, "../../../dist/backup/restore/write-batch.js")).href;
    writeFileSync(
      slow,
      `import { existsSync } from 'node:fs'; import { parentPort } from 'node:worker_threads'; import { writeBatch } from ${JSON.stringify(batches)};\n` +
        `const held = []; const wait = setInterval(() => { if (!existsSync(${JSON.stringify(go)})) return; clearInterval(wait);\n` +
        "  for (const m of held) { const a = writeBatch(m); parentPort.postMessage(a, [a.data]); } held.length = 0; }, 10);\n" +
        "parentPort.on('message', (m) => { if (m.kind === 'files') held.push(m); });\n",
    );
    const w = onDecoderThread(slow);
    const order: string[] = [];
    const write = (name: string, data: Buffer) => w.write({ dest: path.join(dir, name), mode: 0o644, atCreate: true }, data).then(() => void order.push(name));
    const turn = () => new Promise<void>((r) => setImmediate(r)); // a batch leaves at the end of the turn that filled it
    const first = write("a", Buffer.from("first batch"));
    await turn();
    const second = write("b", Buffer.from("second batch"));
    await turn();
    const mine = owned(Buffer.from("third batch"));
    const third = write("c", mine);
    await turn();
    await third;
    expect(order).toEqual(["c"]); // written here while the thread still holds the other two
    expect(readFileSync(path.join(dir, "c"), "utf8")).toBe("third batch");
    expect(mine.length).toBe(0); // handed-over memory: freed once written, not left to the collector
    writeFileSync(go, "");
    await Promise.all([first, second]);
    await w.close();
    expect(order).toEqual(["c", "a", "b"]);
    expect(readFileSync(path.join(dir, "a"), "utf8")).toBe("first batch");
    expect(readFileSync(path.join(dir, "b"), "utf8")).toBe("second batch");
  });

  it("a thread that dies fails what it held; later files are written on the calling thread", async () => {
    const dying = path.join(dir, "dying-worker.mjs");
    writeFileSync(dying, "import { parentPort } from 'node:worker_threads'; parentPort.on('message', (m) => m.kind === 'files' && process.exit(3));\n");
    const w = onDecoderThread(dying);
    expect(w.threaded).toBe(true);
    const first = w.write({ dest: path.join(dir, "first"), mode: 0o644, atCreate: true }, Buffer.from("1"));
    await expect(first).rejects.toThrow(/stopped/);
    await w.write({ dest: path.join(dir, "later"), mode: 0o644, atCreate: true }, Buffer.from("2"));
    await w.close();
    expect(readFileSync(path.join(dir, "later"), "utf8")).toBe("2");
  });

  it("without a helper thread (or with WORKSPACE_SYNC_WRITE_INLINE) files are written on this thread", async () => {
    expect(smallFileWriter().threaded).toBe(false);
    process.env.WORKSPACE_SYNC_WRITE_INLINE = "1";
    try {
      const w = onDecoderThread();
      expect(w.threaded).toBe(false);
    } finally {
      delete process.env.WORKSPACE_SYNC_WRITE_INLINE;
    }
    const w = inlineWriter();
    await w.write({ dest: path.join(dir, "x"), mode: 0o640, atCreate: false }, Buffer.from("x"));
    await expect(w.write({ dest: path.join(dir, "x"), mode: 0o644, atCreate: true }, Buffer.from("y"))).rejects.toMatchObject({ code: "EEXIST" });
    expect(statSync(path.join(dir, "x")).mode & 0o777).toBe(0o640);
  });
});
