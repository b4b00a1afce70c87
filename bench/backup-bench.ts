// Backup benchmark: one encrypted snapshot to the local backend, side by side with the raw limit on the same data
// in one run, on (a) issue 15's 257 MB workspace (5,000 text files + 10 × 20 MiB binaries) and (b) the 1 GiB mixed
// workspace (60% text-like, 40% incompressible media):
//   ours          `workspace-sync backup now` (walk → tar → zstd -3 → age scrypt → the file: a local folder is written
//                 directly, no rclone; then the manifest and checks)
//   raw limit     `tar -c | zstd -3 -T0 | openssl enc … | rclone rcat` (rclone re-reads the object for its checksum)
//   raw, no re-read   the same with `rcat --ignore-checksum`, as ours runs it
//   older plugin  `tar cz | openssl enc -aes-256-cbc -pbkdf2 | rclone rcat` (1 GiB only: ~45 s a run)
// Wall time (median of RUNS, contenders in a rotating order), CPU (children included) and peak RSS of the largest
// process (/usr/bin/time -v). Then the fixed cost of a run, measured on a one-file workspace: every rclone call
// with its start and duration (rclonePath → bench/rclone-timeline.sh) and the in-process phases from a CPU profile.
// Then peak RSS of ours on 10 GiB (the 1 GiB tree hard-linked ten times; BENCH_SKIP_10G=1 skips it).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BENCH_PASSPHRASE, binPath, machine, makeDataset, type Measure, median, MIXED_1G, productWorld, repo, saveResults, SMALL_257M, timedV, workDir } from "./lib.ts";
import { summarise } from "./profile-summary.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SETS = (process.env.BENCH_SETS ?? "a,b").split(",");
const remoteDir = path.join(workDir, "backup-remote");
const stateDir = path.join(workDir, "backup-state");
const conf = path.join(workDir, "backup-rclone.conf");
const dataset10 = path.join(workDir, "backup-10g");
const node = process.execPath;

const DATASETS = [
  { id: "a", label: "(a) 257 MB: 5,000 text files + 10 × 20 MiB binaries", dir: path.join(workDir, "ds-small"), spec: SMALL_257M, older: false },
  { id: "b", label: "(b) 1 GiB mixed", dir: path.join(workDir, "ds-mixed-1g"), spec: MIXED_1G, older: true },
].filter((d) => SETS.includes(d.id));

type Row = Measure & { storedBytes: number; runs: number[] };
type Contender = "ours" | "raw" | "rawNoReread" | "older";
const LABELS: Record<Contender, string> = {
  ours: "ours: walk → tar → zstd -3 → age (scrypt) → file (local folder: no rclone)",
  raw: "raw limit: tar → zstd -3 -T0 → openssl enc → rclone rcat",
  rawNoReread: "raw limit with rcat --ignore-checksum (as ours)",
  older: "older plugin: tar cz → openssl enc aes-256-cbc pbkdf2 → rclone rcat",
};

function storedBytes(): number {
  return Number(execFileSync("du", ["-sb", remoteDir]).toString().split("\t")[0]);
}

async function once(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measure & { storedBytes: number }> {
  rmSync(remoteDir, { recursive: true, force: true });
  mkdirSync(remoteDir, { recursive: true });
  const m = await timedV(cmd, args, env);
  return { ...m, storedBytes: storedBytes() };
}

function summarize(all: (Measure & { storedBytes: number })[]): Row {
  return {
    wallMs: median(all.map((m) => m.wallMs)),
    cpuMs: median(all.map((m) => m.cpuMs)),
    userMs: median(all.map((m) => m.userMs)),
    sysMs: median(all.map((m) => m.sysMs)),
    peakRssMiB: Math.max(...all.map((m) => m.peakRssMiB)),
    storedBytes: all[0]!.storedBytes,
    runs: all.map((m) => Math.round(m.wallMs)),
  };
}

const env = productWorld(stateDir, remoteDir);
writeFileSync(conf, "[bench]\ntype = local\n");
const shellEnv = { ...env, P: BENCH_PASSPHRASE };
const pipelines = (ws: string): Record<Exclude<Contender, "ours">, string> => ({
  older: `tar -C '${ws}' -cz . | openssl enc -aes-256-cbc -salt -pbkdf2 -iter 100000 -pass env:P | rclone rcat bench:${remoteDir}/old.tar.gz.enc --config '${conf}'`,
  raw: `tar -C '${ws}' -c . | zstd -3 -T0 -q | openssl enc -aes-256-cbc -salt -pbkdf2 -iter 100000 -pass env:P | rclone rcat bench:${remoteDir}/raw.tar.zst.enc --config '${conf}'`,
  rawNoReread: `tar -C '${ws}' -c . | zstd -3 -T0 -q | openssl enc -aes-256-cbc -salt -pbkdf2 -iter 100000 -pass env:P | rclone rcat --ignore-checksum bench:${remoteDir}/raw2.tar.zst.enc --config '${conf}'`,
});

interface SetResult {
  id: string;
  label: string;
  rows: Partial<Record<Contender, Row>>;
  vsRaw: number;
  vsRawNoReread: number;
}

async function benchSet(ds: (typeof DATASETS)[number]): Promise<SetResult> {
  console.log(`\n${ds.label}: generating …`);
  makeDataset(ds.dir, ds.spec);
  execFileSync("bash", ["-c", `tar -C '${ds.dir}' -c . > /dev/null`]); // warm the page cache for every contender
  const pipes = pipelines(ds.dir);
  const contenders: Contender[] = ["ours", "raw", "rawNoReread", ...(ds.older ? (["older"] as const) : [])];
  const run: Record<Contender, () => Promise<Measure & { storedBytes: number }>> = {
    ours: () => once(node, [binPath, "backup", "now", "-q", "--workspace", ds.dir], env),
    raw: () => once("bash", ["-o", "pipefail", "-c", pipes.raw], shellEnv),
    rawNoReread: () => once("bash", ["-o", "pipefail", "-c", pipes.rawNoReread], shellEnv),
    older: () => once("bash", ["-o", "pipefail", "-c", pipes.older], shellEnv),
  };
  const samples: Record<Contender, (Measure & { storedBytes: number })[]> = { ours: [], raw: [], rawNoReread: [], older: [] };
  for (let round = 0; round < RUNS; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + round) % contenders.length]!;
      const m = await run[c]();
      samples[c].push(m);
      console.log(`  round ${round + 1} ${c.padEnd(11)} ${(m.wallMs / 1000).toFixed(2)} s wall, ${(m.cpuMs / 1000).toFixed(2)} s CPU, ${m.peakRssMiB.toFixed(0)} MiB`);
    }
  }
  const rows = Object.fromEntries(contenders.map((c) => [c, summarize(samples[c])])) as SetResult["rows"];
  return { id: ds.id, label: ds.label, rows, vsRaw: rows.ours!.wallMs / rows.raw!.wallMs, vsRawNoReread: rows.ours!.wallMs / rows.rawNoReread!.wallMs };
}

// --- the fixed cost of a run ---------------------------------------------------------------------------------

interface FixedCost {
  totalMs: number;
  runs: number[];
  /** Median start (from the CLI's start) and duration of each rclone call, in call order. */
  rclone: { call: string; startMs: number; durationMs: number }[];
  profile: { nodeStartMs: number; scryptMs: number; idleMs: number; runBackupFirstMs: number; cpuMs: number };
}

async function fixedCost(): Promise<FixedCost> {
  console.log("\nfixed cost: a one-file workspace …");
  const ws = path.join(workDir, "fixed-ws");
  mkdirSync(ws, { recursive: true });
  writeFileSync(path.join(ws, "note.md"), "one small file\n");
  const tlState = path.join(workDir, "fixed-state");
  const tlRemote = path.join(workDir, "fixed-remote");
  rmSync(tlRemote, { recursive: true, force: true });
  const timeline = path.join(workDir, "fixed-timeline.log");
  const tlEnv = { ...productWorld(tlState, tlRemote, { rclonePath: path.join(repo, "bench", "rclone-timeline.sh") }), RCLONE_TIMELINE: timeline };
  const runs: { totalMs: number; calls: { call: string; startMs: number; durationMs: number }[] }[] = [];
  await timedV(node, [binPath, "backup", "now", "-q", "--workspace", ws], tlEnv); // rclone version cache, first snapshot
  for (let i = 0; i < Math.max(5, RUNS); i++) {
    rmSync(timeline, { force: true });
    const startNs = BigInt(Date.now()) * 1_000_000n;
    const m = await timedV(node, [binPath, "backup", "now", "-q", "--workspace", ws], tlEnv);
    // A local-folder remote is written without rclone: then there is no timeline at all.
    const calls = (existsSync(timeline) ? readFileSync(timeline, "utf8") : "")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [s, e, , ...args] = line.split(" ");
        const call = args.filter((a) => !a.startsWith("--") && !a.includes(":")).slice(0, 1).join(" ") + (args.includes("--stat") ? " --stat" : "");
        const what = args.find((a) => a.includes(".manifest.json")) ? `${call} (manifest)` : call;
        return { call: what, startMs: Number((BigInt(s!) - startNs) / 1_000_000n), durationMs: Number((BigInt(e!) - BigInt(s!)) / 1_000_000n) };
      });
    runs.push({ totalMs: m.wallMs, calls });
  }
  const calls = (runs[0]?.calls ?? []).map((c, i) => ({
    call: c.call,
    startMs: median(runs.map((r) => r.calls[i]?.startMs ?? NaN)),
    durationMs: median(runs.map((r) => r.calls[i]?.durationMs ?? NaN)),
  }));
  const profDir = path.join(workDir, "fixed-prof");
  rmSync(profDir, { recursive: true, force: true });
  const prof = await timedV(node, ["--cpu-prof", `--cpu-prof-dir=${profDir}`, binPath, "backup", "now", "-q", "--workspace", ws], tlEnv);
  const p = summarise(path.join(profDir, readdirSync(profDir)[0]!));
  const span = (n: string) => p.spans.get(n);
  return {
    totalMs: median(runs.map((r) => r.totalMs)),
    runs: runs.map((r) => Math.round(r.totalMs)),
    rclone: calls,
    profile: {
      nodeStartMs: span("main")?.firstMs ?? NaN,
      scryptMs: span("scryptSync")?.inclusiveMs ?? NaN,
      idleMs: p.idleMs,
      runBackupFirstMs: span("runBackup")?.firstMs ?? NaN,
      cpuMs: prof.cpuMs,
    },
  };
}

const results: SetResult[] = [];
for (const ds of DATASETS) results.push(await benchSet(ds));
const fixed = await fixedCost();
let ten: Row | undefined;
if (!process.env.BENCH_SKIP_10G && SETS.includes("b")) {
  console.log("building the 10 GiB tree (hard links) …");
  if (!existsSync(`${dataset10}.complete`)) {
    rmSync(dataset10, { recursive: true, force: true });
    mkdirSync(dataset10, { recursive: true });
    for (let k = 0; k < 10; k++) execFileSync("cp", ["-al", path.join(workDir, "ds-mixed-1g"), path.join(dataset10, `copy${k}`)]);
    writeFileSync(`${dataset10}.complete`, "");
  }
  ten = summarize([await once(node, [binPath, "backup", "now", "-q", "--workspace", dataset10], env)]);
}
rmSync(remoteDir, { recursive: true, force: true });

const s = (m: Row) => `${(m.wallMs / 1000).toFixed(2)} s | ${(m.cpuMs / 1000).toFixed(2)} s | ${m.peakRssMiB.toFixed(0)} MiB | ${(m.storedBytes / 2 ** 20).toFixed(0)} MiB | ${m.runs.map((x) => (x / 1000).toFixed(1)).join(", ")}`;
const md: string[] = [
  "# Backup benchmark (local backend, encrypted, same data in one run)",
  "",
  "```json",
  JSON.stringify({ ...machine(), load: readFileSync("/proc/loadavg", "utf8").trim() }, null, 2),
  "```",
  "",
  `Wall time and CPU (user + system, children included) are medians of ${RUNS} runs (warm page cache); peak RSS is the largest single process (/usr/bin/time -v).`,
];
for (const r of results) {
  md.push(
    "",
    `## ${r.label}`,
    "",
    "| pipeline | wall | CPU | peak RSS | stored | runs (s) |",
    "|---|---|---|---|---|---|",
    ...(Object.keys(r.rows) as Contender[]).map((c) => `| ${LABELS[c]} | ${s(r.rows[c]!)} |`),
    "",
    `Ours / raw limit: ${r.vsRaw.toFixed(2)}x (goal <= 1.15x); ${r.vsRawNoReread.toFixed(2)}x against the raw limit without rclone's re-read.` +
      (r.rows.older ? ` Speed-up over the older pipeline: ${(r.rows.older.wallMs / r.rows.ours!.wallMs).toFixed(2)}x.` : ""),
  );
}
md.push(
  "",
  "## Fixed cost of a run (one-file workspace)",
  "",
  `\`backup now\` of one small file: ${(fixed.totalMs / 1000).toFixed(2)} s wall (median of ${fixed.runs.length}: ${fixed.runs.map((x) => (x / 1000).toFixed(2)).join(", ")}), ${(fixed.profile.cpuMs / 1000).toFixed(2)} s CPU.`,
  `Node start-up and loading the bundle until the command runs: ${fixed.profile.nodeStartMs.toFixed(0)} ms; the backup starts at ${fixed.profile.runBackupFirstMs.toFixed(0)} ms. ` +
    `Key derivation (age scrypt, 2^16) runs on the thread pool beside the walk; the main thread was idle ${fixed.profile.idleMs.toFixed(0)} ms (mostly waiting for it, with nothing else to do for one file).`,
  ...(fixed.rclone.length
    ? [
        "",
        "| rclone call | starts at | takes |",
        "|---|---|---|",
        ...fixed.rclone.map((c) => `| ${c.call} | ${c.startMs.toFixed(0)} ms | ${c.durationMs.toFixed(0)} ms |`),
        "",
        `rclone calls in total: ${fixed.rclone.reduce((n, c) => n + c.durationMs, 0).toFixed(0)} ms of ${fixed.totalMs.toFixed(0)} ms.`,
      ]
    : ["", "No rclone process ran: a local folder is listed, read and written with file-system calls."]),
);
if (ten) md.push("", `Ours on 10 GiB (1 run): ${s(ten)} (peak RSS goal < 150 MiB).`);
const saved = saveResults("backup", { machine: machine(), runs: RUNS, results, fixed, tenGiB: ten }, md.join("\n") + "\n");
console.log(md.join("\n"));
console.log(`results: ${saved}.{json,md}`);
