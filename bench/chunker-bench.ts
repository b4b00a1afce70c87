// Chunking speed: restic's content-defined chunker (src/backup/formats/repository/chunker) in each implementation,
// on 1 GiB of random data and 1 GiB of text-like data, next to sha256 (the stage that follows) and, as the reference,
// the real restic's whole first backup of the same files. Figures are MiB of input per second of one core; the
// chunker skips the first 512 KiB - 64 of every chunk unhashed, as restic does, so this is input, not hashed, bytes.
import { execFileSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { mkdirSync, openSync, rmSync, writeSync, closeSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import os from "node:os";
import { machine, repo, saveResults, workDir } from "./lib.ts";

const chunkerModule = path.join(repo, "dist", "backup", "formats", "repository", "chunker", "index.js");
const { ChunkReader, Chunker, chunkLengths, readFromFileHandle } = (await import(chunkerModule)) as typeof import("../src/backup/formats/repository/chunker/index.ts");

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const SIZE = Number(process.env.CHUNKER_BENCH_BYTES ?? GiB);
const POL = "3da3358b4dc173";
const dir = path.join(workDir, "chunker");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

/** Text-like bytes: lines of words from a small vocabulary (what an agent workspace mostly holds). */
function fillText(buf: Buffer, seed: number): void {
  const words = "the a restic chunk agent workspace file sync backup tree node index pack blob data config key lock snapshot function return const let import export if else for while memory notes session tool result error".split(" ").map((w) => Buffer.from(`${w} `));
  let x = seed >>> 0 || 1;
  let o = 0;
  while (o < buf.length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const w = words[(x >>> 0) % words.length]!;
    o += w.copy(buf, o);
    if ((x & 15) === 0 && o < buf.length) buf[o++] = 0x0a;
  }
}

function makeData(kind: "random" | "text"): Buffer {
  const buf = Buffer.allocUnsafe(SIZE);
  for (let off = 0; off < SIZE; off += 64 * MiB) {
    const piece = buf.subarray(off, Math.min(SIZE, off + 64 * MiB));
    if (kind === "random") randomFillSync(piece);
    else fillText(piece, off / MiB + 1);
  }
  return buf;
}

function mibps(bytes: number, ms: number): number {
  return Math.round(bytes / MiB / (ms / 1000));
}

/** Best of `runs`: the machine is shared, and the fastest run is the one least disturbed by other work. */
function timeIt(fn: () => void, runs = 3): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return Math.min(...ms);
}

async function timeReader(file: string, implementation: "wasm" | "js"): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 3; i++) {
    const reader = new ChunkReader(POL, { implementation });
    const fh = await open(file);
    const t = performance.now();
    let n = 0;
    for await (const chunk of reader.chunks(readFromFileHandle(fh))) n += chunk.length;
    ms.push(performance.now() - t);
    await fh.close();
    if (n !== SIZE) throw new Error(`read ${n} of ${SIZE} bytes`);
  }
  return Math.min(...ms);
}

/** Two worker threads chunking one half each (aggregate MiB/s): does a second core help the chunker alone? */
async function timeTwoWorkers(data: Buffer): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 3; i++) ms.push(await twoWorkersOnce(data));
  return Math.min(...ms);
}

async function twoWorkersOnce(data: Buffer): Promise<number> {
  const shared = new SharedArrayBuffer(data.length);
  new Uint8Array(shared).set(data);
  const half = Math.floor(data.length / 2);
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    import(workerData.mod).then(({ chunkLengths }) => {
      const view = new Uint8Array(workerData.shared, workerData.start, workerData.length);
      parentPort.postMessage("ready");
      parentPort.once("message", () => { chunkLengths(view, workerData.pol); parentPort.postMessage("done"); });
    });`;
  const workers = [0, 1].map((k) => new Worker(code, { eval: true, workerData: { mod: chunkerModule, shared, start: k * half, length: k === 0 ? half : data.length - half, pol: POL } }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once("message", r))));
  const t = performance.now();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((r) => {
          w.once("message", () => r());
          w.postMessage("go");
        }),
    ),
  );
  const ms = performance.now() - t;
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

/** restic's whole first backup of the file into a fresh local repository; best of 2. */
function resticBackupSeconds(file: string): number {
  const runs: number[] = [];
  for (let i = 0; i < 2; i++) {
    const repoDir = path.join(dir, `restic-${path.basename(file)}`);
    const env = { PATH: process.env.PATH, HOME: dir, RESTIC_REPOSITORY: repoDir, RESTIC_PASSWORD: "bench" };
    execFileSync("restic", ["init", "--repository-version", "2", "-q"], { env });
    const t = performance.now();
    execFileSync("restic", ["backup", "--no-cache", "-q", "--host", "bench", file], { env });
    runs.push((performance.now() - t) / 1000);
    rmSync(repoDir, { recursive: true, force: true });
  }
  return Math.min(...runs);
}

const loadAtStart = os.loadavg();
const rows: Array<Record<string, unknown>> = [];
for (const kind of ["random", "text"] as const) {
  const data = makeData(kind);
  const file = path.join(dir, `${kind}.bin`);
  const fd = openSync(file, "w");
  for (let off = 0; off < data.length; off += 64 * MiB) writeSync(fd, data, off, Math.min(64 * MiB, data.length - off));
  closeSync(fd);
  const chunks = chunkLengths(data, POL).length;
  const row: Record<string, unknown> = { data: kind, bytes: SIZE, chunks, avgChunkKiB: Math.round(SIZE / chunks / 1024) };
  for (const impl of ["wasm", "js"] as const) {
    row[`${impl} push MiB/s`] = mibps(SIZE, timeIt(() => chunkLengths(data, POL, { implementation: impl })));
    row[`${impl} reader (page cache) MiB/s`] = mibps(SIZE, await timeReader(file, impl));
  }
  row["wasm 2 workers MiB/s (aggregate)"] = mibps(SIZE, await timeTwoWorkers(data));
  row["sha256 MiB/s"] = mibps(SIZE, timeIt(() => createHash("sha256").update(data).digest()));
  // Chunker + sha256 of every chunk: the part of a backup before compression and encryption.
  row["wasm chunk+sha256 MiB/s"] = mibps(
    SIZE,
    timeIt(() => {
      const c = new Chunker(POL);
      let prev = 0;
      for (const cut of c.push(data)) {
        createHash("sha256").update(data.subarray(prev, cut)).digest();
        prev = cut;
      }
      createHash("sha256").update(data.subarray(prev)).digest();
    }),
  );
  const resticS = resticBackupSeconds(file);
  row["restic 0.14 first backup s"] = Math.round(resticS * 100) / 100;
  row["restic 0.14 first backup MiB/s"] = mibps(SIZE, resticS * 1000);
  rows.push(row);
  rmSync(file, { force: true });
  console.log(row);
}

const cols = Object.keys(rows[0]!);
const md = [
  "# Chunker speed (restic's Rabin chunker, MinSize 512 KiB, MaxSize 8 MiB)",
  "",
  "```json",
  JSON.stringify(machine(), null, 2),
  "```",
  "",
  `Load average when the run started: ${loadAtStart.map((l) => l.toFixed(1)).join(" / ")} (2 cores, shared with other work), at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")}.`,
  "",
  `One core each, best of 3 runs over ${Math.round(SIZE / MiB)} MiB (best: the fastest run is the least disturbed on a shared machine). "push": Chunker.push over data in memory; "reader": ChunkReader reading the file from the page cache straight into the core's memory; "2 workers": two threads on one half each. The restic column is its whole first backup of the same file (chunking, sha256, zstd, AES, pack files on a local repository) with both cores: the budget the product's backup has to meet.`,
  "",
  `| ${cols.join(" | ")} |`,
  `|${cols.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${cols.map((c) => String(r[c])).join(" | ")} |`),
  "",
].join("\n");
const saved = saveResults("chunker", { machine: machine(), loadAtStart, loadAtEnd: os.loadavg(), rows }, md);
console.log(md);
console.log(`results: ${saved}.{json,md}`);
rmSync(dir, { recursive: true, force: true });
