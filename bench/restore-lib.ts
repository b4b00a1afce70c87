// One restore through the library, no CLI: the real read path (rclone cat → SHA-256 → age → zstd) of the newest
// snapshot into a fresh target, consumed either by today's extractor (`old`: node-tar parser + the per-file safe
// writer) or by the new restore writer (`new`: src/backup/restore/ tar source + writer); `decode` reads and
// decodes only (the reading side's floor). Run as a child of restore-bench.ts under /usr/bin/time -v, so CPU and
// peak RSS are this restore's alone. Prints one JSON line.
//
// Usage: node bench/restore-lib.ts old|new|decode TARGET   (OPENCLAW_STATE_DIR set to a bench state dir)
// It imports today's module paths from dist/: after src/backup is restructured, only this file needs new paths.
import v8 from "node:v8";
import path from "node:path";
import { repo } from "./lib.ts";

// As the bin does for backup commands (see bin/workspace-sync.js).
if (!process.env.BENCH_V8_DEFAULTS) v8.setFlagsFromString("--semi-space-growth-factor=1");

const [mode, target] = process.argv.slice(2) as ["old" | "new" | "decode" | "parse", string];
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

const t0 = performance.now();
const ctx = await loadContext({}, process.env, silentLogger);
const setup = await openRepository(ctx);
const [entry] = pickSnapshots(await listRepository(setup.access), undefined, false);
const unlock = await unlockFor(setup.backup);
const tReady = performance.now();
let stats: Record<string, unknown> = {};
let lastProgress = { files: 0, bytes: 0, at: 0 };
const consume = async (stream: NodeJS.ReadableStream, dir: string) => {
  if (mode === "old") return extractTar(stream, { target: dir });
  if (mode === "decode") {
    for await (const _ of stream);
    return {};
  }
  return writeEntries(tarSource(stream as AsyncIterable<Buffer>), {
    target: dir,
    onProgress: (s: { files: number; bytes: number }) => (lastProgress = { files: s.files, bytes: s.bytes, at: performance.now() }),
  });
};
if (mode === "decode") {
  ({ result: stats } = await readSnapshot(setup, entry, unlock, (s: NodeJS.ReadableStream) => consume(s, ""), { phase: "restore" }));
} else {
  const prepared = await prepareTarget(target, false);
  ({ result: stats } = await readSnapshot(setup, entry, unlock, (s: NodeJS.ReadableStream) => consume(s, prepared.staging), { phase: "restore" }));
  await commitTarget(prepared);
}
const tEnd = performance.now();
console.log(
  JSON.stringify({
    mode,
    setupMs: tReady - t0,
    restoreMs: tEnd - tReady,
    totalMs: tEnd - t0,
    files: stats.files,
    bytes: stats.bytes,
    refused: (stats.refused as unknown[] | undefined)?.length ?? 0,
    // How far the writer's own counters were behind the end: the progress a user sees is true when this is ~0.
    lastProgressBeforeEndMs: mode === "new" ? tEnd - lastProgress.at : undefined,
  }),
);
