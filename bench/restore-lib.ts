// One restore through the library, no CLI: the real read path (rclone cat → SHA-256 → age → zstd) of the newest
// snapshot into a fresh target, consumed by
//   old          today's extractor (node-tar parser + the per-file safe writer, src/backup/archive/tar-extract.ts)
//   new          the new restore writer fed by our tar pull parser (src/backup/restore/)
//   new-nodetar  the new restore writer fed by node-tar's Parser (bench/nodetar-source.ts)
//   next         the new restore writer, and the read path with one zstd context and GC paced by decoded bytes
//                (bench/zstd-one-context.ts): what restore can be once both are integrated
//   decode-next  the reading side of `next` alone
//   baseline     nothing: everything loaded and the repository listed (the runner's own resident set)
//   decode       nothing: read and decode only (the reading side's floor)
//   dump         the decoded tar written to TARGET (input of the parse modes)
// or, from a plain tar file (TARGET), no decoding and no writing: parse-ours / parse-nodetar (the parsers' cost).
// Run as a child of restore-bench.ts under /usr/bin/time -v, so CPU and peak RSS are this restore's alone. Prints
// one JSON line.
//
// Usage: node bench/restore-lib.ts MODE TARGET   (OPENCLAW_STATE_DIR set to a bench state dir)
// It imports today's module paths from dist/: after src/backup is restructured, only this file needs new paths.
import v8 from "node:v8";
import path from "node:path";
import { repo } from "./lib.ts";

// As the bin does for backup commands (see bin/workspace-sync.js).
if (!process.env.BENCH_V8_DEFAULTS) v8.setFlagsFromString("--semi-space-growth-factor=1");

type Mode = "old" | "new" | "new-nodetar" | "next" | "decode" | "decode-next" | "dump" | "parse-ours" | "parse-nodetar" | "baseline";
const [mode, target] = process.argv.slice(2) as [Mode, string];
const dist = (p: string) => import(path.join(repo, "dist", p));
const { loadContext } = await dist("app/context.js");
const { silentLogger } = await dist("util/logger.js");
const { openRepository } = await dist("backup/setup.js");
const { listRepository } = await dist("backup/repository.js");
const { pickSnapshots } = await dist("backup/verify.js");
const { unlockFor } = await dist("backup/keys.js");
const { readSnapshot } = await dist("backup/read-snapshot.js");
const { prepareTarget, commitTarget } = await dist("backup/restore-target.js");
const { extractTar } = await dist("backup/archive/index.js");
const { tarSource, writeEntries } = await dist("backup/restore/index.js");
const { downloadObject } = await dist("backup/transfer.js");
const { createAgeDecryptStream } = await dist("backup/crypto/index.js");
const { createOneContextZstdDecompressor } = await import("./zstd-one-context.ts");

const { nodeTarSource } = await import("./nodetar-source.ts");

// Resident set while the snapshot streams, sampled every 20 ms once the first decoded byte arrived: the key
// derivation before it (scrypt, 64 MiB) sets the process's peak on its own, and this runner loads ~35 MiB more
// code than the bundled CLI, so the process peak says little about the writer.
let streaming = false;
let streamPeak = 0;
const sampler = setInterval(() => {
  if (streaming) streamPeak = Math.max(streamPeak, process.memoryUsage.rss());
  if (process.env.BENCH_RSS_TRACE) { const m = process.memoryUsage(); console.error(`${(performance.now() / 1000).toFixed(2)} rss ${(m.rss / 2 ** 20).toFixed(0)} heap ${(m.heapUsed / 2 ** 20).toFixed(0)} ab ${(m.arrayBuffers / 2 ** 20).toFixed(0)}`); }
}, 20);
const started = () => void (streaming = true);

if (mode === "parse-ours" || mode === "parse-nodetar") {
  clearInterval(sampler);
  const { createReadStream } = await import("node:fs");
  const t = performance.now();
  const stream = createReadStream(target, { highWaterMark: 1 << 20 });
  const source = mode === "parse-ours" ? tarSource(stream) : nodeTarSource(stream);
  let entries = 0;
  let bytes = 0;
  for await (const e of source.entries) {
    entries++;
    if (e.content) for await (const c of e.content) bytes += (c as Buffer).length;
  }
  console.log(JSON.stringify({ mode, entries, bytes, restoreMs: performance.now() - t }));
  process.exit(0);
}


const t0 = performance.now();
const ctx = await loadContext({}, process.env, silentLogger);
const setup = await openRepository(ctx);
const [entry] = pickSnapshots(await listRepository(setup.access), undefined, false);
const unlock = await unlockFor(setup.backup);
const tReady = performance.now();
let stats: Record<string, unknown> = {};
let lastProgress = { files: 0, bytes: 0, at: 0 };
const consume = async (stream: NodeJS.ReadableStream, dir: string) => {
  if (mode === "old") return extractTar(stream, { target: dir, onEntry: started });
  if (mode === "decode" || mode === "decode-next") {
    for await (const _ of stream) started();
    return {};
  }
  if (mode === "dump") {
    const { createWriteStream } = await import("node:fs");
    const { pipeline } = await import("node:stream/promises");
    await pipeline(stream, createWriteStream(target));
    return {};
  }
  const source = mode === "new-nodetar" ? nodeTarSource(stream as never) : tarSource(stream as AsyncIterable<Buffer>);
  return writeEntries(source, {
    target: dir,
    onEntry: started,
    onProgress: (s: { files: number; bytes: number }) => (lastProgress = { files: s.files, bytes: s.bytes, at: performance.now() }),
  });
};
/** readSnapshot's read path with the prototype decompressor (age → one-context zstd), checked against the manifest. */
async function readNext(consumeIt: (s: NodeJS.ReadableStream) => Promise<Record<string, unknown>>) {
  const stages = [createAgeDecryptStream(unlock), createOneContextZstdDecompressor()];
  const read = await downloadObject({ ...setup.access, name: entry.name, stages, consume: consumeIt });
  const want = entry.manifest.stored;
  if (read.stored.size !== want.size || read.stored.sha256 !== want.sha256) throw new Error("the snapshot does not match its manifest");
  return read;
}
if (mode === "baseline") {
  // listed and unlocked above: nothing more
} else if (mode === "decode" || mode === "dump") {
  ({ result: stats } = await readSnapshot(setup, entry, unlock, (s: NodeJS.ReadableStream) => consume(s, ""), { phase: "restore" }));
} else if (mode === "decode-next") {
  ({ result: stats } = await readNext((s) => consume(s, "")));
} else if (mode === "next") {
  const prepared = await prepareTarget(target, false);
  ({ result: stats } = await readNext((s) => consume(s, prepared.staging)));
  await commitTarget(prepared);
} else {
  const prepared = await prepareTarget(target, false);
  ({ result: stats } = await readSnapshot(setup, entry, unlock, (s: NodeJS.ReadableStream) => consume(s, prepared.staging), { phase: "restore" }));
  await commitTarget(prepared);
}
const tEnd = performance.now();
clearInterval(sampler);
console.log(
  JSON.stringify({
    mode,
    setupMs: tReady - t0,
    restoreMs: tEnd - tReady,
    totalMs: tEnd - t0,
    files: stats.files,
    bytes: stats.bytes,
    refused: (stats.refused as unknown[] | undefined)?.length ?? 0,
    streamPeakRssMiB: streamPeak / 2 ** 20,
    // How far the writer's own counters were behind the end: the progress a user sees is true when this is ~0.
    lastProgressBeforeEndMs: mode.startsWith("new") || mode === "next" ? tEnd - lastProgress.at : undefined,
  }),
);
