// Restore benchmark, side by side in one run on the same data and disk:
//   ours (CLI)    `workspace-sync backup restore` as users run it: local-folder remote, age with a passphrase
//                 (scrypt), then the comparison with the live workspace the command prints
//   lib: today    the same read path (rclone cat → SHA-256 → age → zstd) into today's extractor, as a library call
//   lib: new      the same read path into the new restore writer (src/backup/restore/), as a library call
//   lib: next     the new writer, and the read path with one zstd context for all frames and GC paced by decoded
//                 bytes (bench/zstd-one-context.ts): what restore becomes once both are integrated
//   restic        `restic restore` of the same tree from a restic repository on the same disk (--no-cache: a fresh box)
//   raw pipeline  `rclone cat | age -d | zstd -d | tar -x` of the same tree (age with an X25519 key: no scrypt)
// Data sets: (a) issue 15's workspace, 5,000 small text files + 10 × 20 MiB binaries (257 MB); (b) 1 GiB mixed.
// Wall time and CPU (children included) are medians of RUNS rounds, contenders in a rotating order; peak RSS is the
// largest single process (/usr/bin/time -v), the maximum over the rounds. Every restore goes to a fresh folder and
// all of them are deleted only at the end: on this machine's journal-less ext4, creating files where many were just
// deleted costs a scan of the recently deleted inodes per file (see docs/performance.md), which would bill one
// contender for the clean-up of another.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BENCH_PASSPHRASE, binPath, machine, makeDataset, type Measure, median, MIXED_1G, productWorld, repo, saveResults, SMALL_257M, timedV, treeTotals, workDir } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SETS = (process.env.BENCH_SETS ?? "a,b").split(",");
const node = process.execPath;
const libRunner = path.join(repo, "bench", "restore-lib.ts");
const targets = path.join(workDir, "restore-targets");

const DATASETS = [
  { id: "a", label: "(a) 257 MB: 5,000 text files + 10 × 20 MiB binaries", dir: path.join(workDir, "ds-small"), spec: SMALL_257M },
  { id: "b", label: "(b) 1 GiB mixed: ~20,000 text files (60%) + incompressible media (40%)", dir: path.join(workDir, "ds-mixed-1g"), spec: MIXED_1G },
].filter((d) => SETS.includes(d.id));

type Contender = "cli" | "libOld" | "libNew" | "libNext" | "restic" | "raw";
const LABELS: Record<Contender, string> = {
  cli: "ours: `backup restore` (CLI, today's extractor)",
  libOld: "lib: read path → today's extractor",
  libNew: "lib: read path → new restore writer",
  libNext: "lib: read path with one zstd context → new restore writer",
  restic: "restic 0.14 `restore` (--no-cache)",
  raw: "raw: rclone cat \\| age -d \\| zstd -d \\| tar -x",
};
const ORDER: Contender[] = ["cli", "libOld", "libNew", "libNext", "restic", "raw"];
const LIB: Partial<Record<Contender, string>> = { libOld: "old", libNew: "new", libNext: "next" };

interface SetResult {
  id: string;
  label: string;
  source: { files: number; bytes: number };
  stored: { ours: number; restic: number; raw: number };
  prepareMs: { oursBackup: number; resticBackup: number; rawBackup: number };
  rows: Record<Contender, Measure & { runs: number[]; streamPeakRssMiB?: number }>;
  decode: Measure;
  decodeNext: Measure;
  /** Resident set of a process that loaded everything and listed the repository, before any restore. */
  baselineRssMiB: { cli: number; lib: number };
  parse: { ours: Measure; nodeTar: Measure };
  lastProgressBeforeEndMs: number[];
  checks: Record<string, string>;
}

const du = (p: string) => Number(execFileSync("du", ["-sb", p]).toString().split("\t")[0]);
const settle = () => execFileSync("sync"); // the previous run's dirty pages are not written back during the next
let seq = 0;
const freshTarget = (tag: string) => path.join(targets, `${tag}-${++seq}`);

function summarize(all: Measure[]): Measure & { runs: number[] } {
  return {
    wallMs: median(all.map((m) => m.wallMs)),
    cpuMs: median(all.map((m) => m.cpuMs)),
    userMs: median(all.map((m) => m.userMs)),
    sysMs: median(all.map((m) => m.sysMs)),
    peakRssMiB: Math.max(...all.map((m) => m.peakRssMiB)),
    runs: all.map((m) => Math.round(m.wallMs)),
  };
}

async function benchSet(ds: (typeof DATASETS)[number]): Promise<SetResult> {
  console.log(`\n${ds.label}: generating …`);
  makeDataset(ds.dir, ds.spec);
  const source = treeTotals(ds.dir);
  const base = path.join(workDir, `restore-${ds.id}`);
  rmSync(base, { recursive: true, force: true });
  const stateDir = path.join(base, "state");
  const remoteDir = path.join(base, "remote");
  const resticRepo = path.join(base, "restic");
  const env = productWorld(stateDir, remoteDir);
  const resticEnv = { ...env, RESTIC_PASSWORD: BENCH_PASSPHRASE };
  const conf = path.join(base, "rclone.conf");
  writeFileSync(conf, "[bench]\ntype = local\n");
  const keyFile = path.join(base, "age.key");
  execFileSync("age-keygen", ["-o", keyFile], { stdio: "pipe" });
  const recipient = execFileSync("age-keygen", ["-y", keyFile]).toString().trim();
  const rawObject = `bench:${remoteDir}/raw.tar.zst.age`;
  execFileSync("bash", ["-c", `tar -C '${ds.dir}' -c . > /dev/null`]); // warm the page cache for every contender

  console.log("preparing: our snapshot, the restic repository, the raw archive …");
  const oursBackup = await timedV(node, [binPath, "backup", "now", "-q", "--workspace", ds.dir], env);
  execFileSync("restic", ["init", "-q", "-r", resticRepo], { env: resticEnv, stdio: "pipe" });
  const resticBackup = await timedV("restic", ["-r", resticRepo, "backup", "-q", ds.dir], resticEnv);
  const rawBackup = await timedV("bash", ["-o", "pipefail", "-c", `tar -C '${ds.dir}' -c . | zstd -3 -T0 -q | age -r ${recipient} | rclone rcat ${rawObject} --config '${conf}'`], env);
  const stored = { ours: du(remoteDir) - du(path.join(remoteDir, "raw.tar.zst.age")), restic: du(resticRepo), raw: du(path.join(remoteDir, "raw.tar.zst.age")) };

  const commands: Record<Contender, (target: string) => [string, string[], NodeJS.ProcessEnv]> = {
    cli: (t) => [node, [binPath, "backup", "restore", "-q", "--to", t], env],
    libOld: (t) => [node, [libRunner, "old", t], env],
    libNew: (t) => [node, [libRunner, "new", t], env],
    libNext: (t) => [node, [libRunner, "next", t], env],
    restic: (t) => ["restic", ["-r", resticRepo, "--no-cache", "restore", "latest", "--target", t, "-q"], resticEnv],
    raw: (t) => {
      mkdirSync(t, { recursive: true });
      return ["bash", ["-o", "pipefail", "-c", `rclone cat ${rawObject} --config '${conf}' | age -d -i '${keyFile}' | zstd -d -q | tar -x -C '${t}'`], env];
    },
  };
  const samples: Record<Contender, Measure[]> = { cli: [], libOld: [], libNew: [], libNext: [], restic: [], raw: [] };
  const streamPeaks: Partial<Record<Contender, number[]>> = {};
  const checks: Record<string, string> = {};
  const lastProgress: number[] = [];
  for (let round = 0; round < RUNS; round++) {
    const order = ORDER.map((_, i) => ORDER[(i + round) % ORDER.length]!);
    for (const c of order) {
      const target = freshTarget(`${ds.id}-${c}`);
      settle();
      const [cmd, args, e] = commands[c](target);
      const m = await timedV(cmd, args, e);
      samples[c].push(m);
      if (LIB[c]) {
        const out = JSON.parse(m.stdout.trim().split("\n").at(-1)!) as { lastProgressBeforeEndMs?: number; streamPeakRssMiB: number };
        (streamPeaks[c] ??= []).push(out.streamPeakRssMiB);
        if (c === "libNew") lastProgress.push(out.lastProgressBeforeEndMs!);
      }
      console.log(`  round ${round + 1} ${c.padEnd(7)} ${(m.wallMs / 1000).toFixed(2)} s wall, ${(m.cpuMs / 1000).toFixed(2)} s CPU, ${m.peakRssMiB.toFixed(0)} MiB`);
      if (round === 0) {
        const got = treeTotals(target);
        checks[c] = got.files === source.files && got.bytes === source.bytes ? "ok" : `MISMATCH: ${got.files} files, ${got.bytes} bytes`;
      }
    }
  }

  console.log("decode floor and parser comparison …");
  const decode: Measure[] = [];
  const decodeNext: Measure[] = [];
  for (let i = 0; i < RUNS; i++) {
    settle();
    decode.push(await timedV(node, [libRunner, "decode", "-"], env));
    decodeNext.push(await timedV(node, [libRunner, "decode-next", "-"], env));
  }
  const baselineRssMiB = {
    cli: (await timedV(node, [binPath, "backup", "list"], env)).peakRssMiB,
    lib: (await timedV(node, [libRunner, "baseline", "-"], env)).peakRssMiB,
  };
  const tarFile = path.join(base, "decoded.tar");
  await timedV(node, [libRunner, "dump", tarFile], env);
  const parse = { ours: [] as Measure[], nodeTar: [] as Measure[] };
  for (let i = 0; i < RUNS; i++) {
    parse.ours.push(await timedV(node, [libRunner, "parse-ours", tarFile], env));
    parse.nodeTar.push(await timedV(node, [libRunner, "parse-nodetar", tarFile], env));
  }
  rmSync(tarFile, { force: true });

  return {
    id: ds.id,
    label: ds.label,
    source,
    stored,
    prepareMs: { oursBackup: oursBackup.wallMs, resticBackup: resticBackup.wallMs, rawBackup: rawBackup.wallMs },
    rows: Object.fromEntries(ORDER.map((c) => [c, { ...summarize(samples[c]), ...(streamPeaks[c] && { streamPeakRssMiB: Math.max(...streamPeaks[c]) }) }])) as SetResult["rows"],
    decode: summarize(decode),
    decodeNext: summarize(decodeNext),
    baselineRssMiB,
    parse: { ours: summarize(parse.ours), nodeTar: summarize(parse.nodeTar) },
    lastProgressBeforeEndMs: lastProgress,
    checks,
  };
}

mkdirSync(targets, { recursive: true });
const results: SetResult[] = [];
try {
  for (const ds of DATASETS) results.push(await benchSet(ds));
} finally {
  rmSync(targets, { recursive: true, force: true });
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const md: string[] = [
  "# Restore benchmark (local-folder remote, encrypted, same data and disk, one run)",
  "",
  "```json",
  JSON.stringify({ ...machine(), restic: execFileSync("restic", ["version"]).toString().trim(), load: readFileSync("/proc/loadavg", "utf8").trim() }, null, 2),
  "```",
  "",
  `Wall and CPU (user + system, children included) are medians of ${RUNS} rounds; peak RSS is the largest single process, the maximum over the rounds. Ratios are wall time against restic's and the raw pipeline's.`,
];
for (const r of results) {
  const restic = r.rows.restic.wallMs;
  const raw = r.rows.raw.wallMs;
  md.push(
    "",
    `## ${r.label}`,
    "",
    `${r.source.files} files, ${mib(r.source.bytes)}; stored: ours ${mib(r.stored.ours)}, restic ${mib(r.stored.restic)}, raw ${mib(r.stored.raw)}. ` +
      `Preparing (one backup each): ours ${s(r.prepareMs.oursBackup)}, restic ${s(r.prepareMs.resticBackup)}, raw pipeline ${s(r.prepareMs.rawBackup)}.`,
    "",
    "| restore | wall | CPU | peak RSS | RSS while streaming | / restic | / raw | runs (s) | restored tree |",
    "|---|---|---|---|---|---|---|---|---|",
    ...ORDER.map((c) => {
      const m = r.rows[c];
      const stream = m.streamPeakRssMiB === undefined ? "" : `${m.streamPeakRssMiB.toFixed(0)} MiB`;
      return `| ${LABELS[c]} | ${s(m.wallMs)} | ${s(m.cpuMs)} | ${m.peakRssMiB.toFixed(0)} MiB | ${stream} | ${(m.wallMs / restic).toFixed(2)}x | ${(m.wallMs / raw).toFixed(2)}x | ${m.runs.map((x) => (x / 1000).toFixed(1)).join(", ")} | ${r.checks[c]} |`;
    }),
    "",
    `Resident set before any restore (everything loaded, repository listed): the bundled CLI ${r.baselineRssMiB.cli.toFixed(0)} MiB, the library runner ${r.baselineRssMiB.lib.toFixed(0)} MiB ` +
      `(unbundled modules): subtract the difference from the library rows to compare with the CLI. "RSS while streaming" is sampled after the key derivation (scrypt, 64 MiB) is over.`,
    "",
    `Reading side alone (rclone cat → SHA-256 → age → zstd, nothing written): ${s(r.decode.wallMs)} wall, ${s(r.decode.cpuMs)} CPU; ` +
      `with one zstd context: ${s(r.decodeNext.wallMs)} wall, ${s(r.decodeNext.cpuMs)} CPU. ` +
      `Parsing the decoded tar from a file (all content read, nothing written): our pull parser ${s(r.parse.ours.wallMs)} wall / ${s(r.parse.ours.cpuMs)} CPU, ` +
      `node-tar's Parser ${s(r.parse.nodeTar.wallMs)} / ${s(r.parse.nodeTar.cpuMs)}. ` +
      `The new writer's progress counters were ${r.lastProgressBeforeEndMs.map((x) => x.toFixed(0)).join(", ")} ms behind the end of the restore.`,
  );
}
const saved = saveResults("restore", { machine: machine(), runs: RUNS, results }, md.join("\n") + "\n");
console.log(md.join("\n"));
console.log(`results: ${saved}.{json,md}`);
