// Restore benchmark, side by side in one run on the same data and disk:
//   ours: archive     `workspace-sync backup restore` as users run it (local-folder remote, archive format, age with a
//                     passphrase: scrypt), including the comparison with the live workspace the command prints
//   ours: repository  the same command on a repository-format backup of the same tree (restic format, passphrase)
//   ours: verify      `workspace-sync backup verify` of the archive: the reading side alone (read, SHA-256, age, zstd,
//                     tar parse), nothing written
//   restic            `restic restore` of the same tree from a restic repository on the same disk (--no-cache: a fresh box)
//   raw pipeline      `rclone cat | age -d | zstd -d | tar -x` of the same tree (age with an X25519 key: no scrypt)
// Data sets: (a) issue 15's workspace, 5,000 small text files + 10 × 20 MiB binaries (257 MB); (b) 1 GiB mixed.
// Wall time and CPU (children included) are medians of RUNS rounds, contenders in a rotating order; peak RSS is the
// largest single process (/usr/bin/time -v), the maximum over the rounds. Every restore goes to a fresh folder and
// all of them are deleted only at the end: creating files where many were just deleted costs more on this disk,
// which would bill one contender for the clean-up of another.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BENCH_PASSPHRASE, binPath, machine, makeDataset, type Measure, median, MIXED_1G, productWorld, saveResults, SMALL_257M, timedV, treeTotals, workDir } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SETS = (process.env.BENCH_SETS ?? "a,b").split(",");
const node = process.execPath;
const targets = path.join(workDir, "restore-targets");

const DATASETS = [
  { id: "a", label: "(a) 257 MB: 5,000 text files + 10 × 20 MiB binaries", dir: path.join(workDir, "ds-small"), spec: SMALL_257M },
  { id: "b", label: "(b) 1 GiB mixed: ~20,000 text files (60%) + incompressible media (40%)", dir: path.join(workDir, "ds-mixed-1g"), spec: MIXED_1G },
].filter((d) => SETS.includes(d.id));

type Contender = "cli" | "repo" | "verify" | "restic" | "raw";
const LABELS: Record<Contender, string> = {
  cli: "ours: `backup restore`, archive format",
  repo: "ours: `backup restore`, repository format",
  verify: "ours: `backup verify`, archive (reading side alone, nothing written)",
  restic: "restic 0.14 `restore` (--no-cache)",
  raw: "raw: rclone cat \\| age -d \\| zstd -d \\| tar -x",
};
const ORDER: Contender[] = ["cli", "repo", "verify", "restic", "raw"];

interface SetResult {
  id: string;
  label: string;
  source: { files: number; bytes: number };
  stored: { ours: number; oursRepository: number; restic: number; raw: number };
  prepareMs: { oursBackup: number; oursRepositoryBackup: number; resticBackup: number; rawBackup: number };
  rows: Record<Contender, Measure & { runs: number[] }>;
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
  const repoState = path.join(base, "repo-state");
  const repoRemote = path.join(base, "repo-remote");
  const repoEnv = productWorld(repoState, repoRemote);
  const repoConfig = path.join(repoState, "openclaw.json");
  const cfg = JSON.parse(readFileSync(repoConfig, "utf8"));
  cfg.plugins.entries["openclaw-workspace-sync"].config.backup.format = "repository";
  writeFileSync(repoConfig, JSON.stringify(cfg));
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
  const oursRepositoryBackup = await timedV(node, [binPath, "backup", "now", "-q", "--workspace", ds.dir], repoEnv);
  execFileSync("restic", ["init", "-q", "-r", resticRepo], { env: resticEnv, stdio: "pipe" });
  const resticBackup = await timedV("restic", ["-r", resticRepo, "backup", "-q", ds.dir], resticEnv);
  const rawBackup = await timedV("bash", ["-o", "pipefail", "-c", `tar -C '${ds.dir}' -c . | zstd -3 -T0 -q | age -r ${recipient} | rclone rcat ${rawObject} --config '${conf}'`], env);
  const stored = { ours: du(remoteDir) - du(path.join(remoteDir, "raw.tar.zst.age")), oursRepository: du(repoRemote), restic: du(resticRepo), raw: du(path.join(remoteDir, "raw.tar.zst.age")) };

  const commands: Record<Contender, (target: string) => [string, string[], NodeJS.ProcessEnv]> = {
    cli: (t) => [node, [binPath, "backup", "restore", "-q", "--workspace", ds.dir, "--to", t], env],
    repo: (t) => [node, [binPath, "backup", "restore", "-q", "--workspace", ds.dir, "--to", t], repoEnv],
    verify: () => [node, [binPath, "backup", "verify", "-q", "--workspace", ds.dir], env],
    restic: (t) => ["restic", ["-r", resticRepo, "--no-cache", "restore", "latest", "--target", t, "-q"], resticEnv],
    raw: (t) => {
      mkdirSync(t, { recursive: true });
      return ["bash", ["-o", "pipefail", "-c", `rclone cat ${rawObject} --config '${conf}' | age -d -i '${keyFile}' | zstd -d -q | tar -x -C '${t}'`], env];
    },
  };
  const samples: Record<Contender, Measure[]> = { cli: [], repo: [], verify: [], restic: [], raw: [] };
  const checks: Record<string, string> = {};
  for (let round = 0; round < RUNS; round++) {
    const order = ORDER.map((_, i) => ORDER[(i + round) % ORDER.length]!);
    for (const c of order) {
      const target = freshTarget(`${ds.id}-${c}`);
      settle();
      const [cmd, args, e] = commands[c](target);
      const m = await timedV(cmd, args, e);
      samples[c].push(m);
      console.log(`  round ${round + 1} ${c.padEnd(7)} ${(m.wallMs / 1000).toFixed(2)} s wall, ${(m.cpuMs / 1000).toFixed(2)} s CPU, ${m.peakRssMiB.toFixed(0)} MiB`);
      if (round === 0 && c !== "verify") {
        const got = treeTotals(target);
        checks[c] = got.files === source.files && got.bytes === source.bytes ? "ok" : `MISMATCH: ${got.files} files, ${got.bytes} bytes`;
      }
    }
  }

  return {
    id: ds.id,
    label: ds.label,
    source,
    stored,
    prepareMs: { oursBackup: oursBackup.wallMs, oursRepositoryBackup: oursRepositoryBackup.wallMs, resticBackup: resticBackup.wallMs, rawBackup: rawBackup.wallMs },
    rows: Object.fromEntries(ORDER.map((c) => [c, summarize(samples[c])])) as SetResult["rows"],
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
    `${r.source.files} files, ${mib(r.source.bytes)}; stored: ours ${mib(r.stored.ours)} (archive), ${mib(r.stored.oursRepository)} (repository), restic ${mib(r.stored.restic)}, raw ${mib(r.stored.raw)}. ` +
      `Preparing (one backup each): ours ${s(r.prepareMs.oursBackup)} (archive), ${s(r.prepareMs.oursRepositoryBackup)} (repository), restic ${s(r.prepareMs.resticBackup)}, raw pipeline ${s(r.prepareMs.rawBackup)}.`,
    "",
    "| restore | wall | CPU | peak RSS | / restic | / raw | runs (s) | restored tree |",
    "|---|---|---|---|---|---|---|---|",
    ...ORDER.map((c) => {
      const m = r.rows[c];
      return `| ${LABELS[c]} | ${s(m.wallMs)} | ${s(m.cpuMs)} | ${m.peakRssMiB.toFixed(0)} MiB | ${(m.wallMs / restic).toFixed(2)}x | ${(m.wallMs / raw).toFixed(2)}x | ${m.runs.map((x) => (x / 1000).toFixed(1)).join(", ")} | ${r.checks[c] ?? "(nothing written)"} |`;
    }),
  );
}
const saved = saveResults("restore", { machine: machine(), runs: RUNS, results }, md.join("\n") + "\n");
console.log(md.join("\n"));
console.log(`results: ${saved}.{json,md}`);
