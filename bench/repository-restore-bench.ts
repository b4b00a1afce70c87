// Restore from a restic-format repository (`npm run bench repository-restore`, or `npm run build` then
// `node bench/repository-restore-bench.ts`): the whole snapshot of a 1 GiB mixed workspace (60% text, 40% media) and
// of the 257 MB / 5,000-small-files set, ours (the product's reader → the format-neutral restore writer, in its own
// process) vs `restic restore` of the SAME repository (written by restic 0.14), same disk, one run each. Two
// transports: the repository as a local folder (restic -r /path; ours DirStorage) and through
// `rclone serve restic --stdio` on rclone's local backend (restic -r rclone:…; ours RcloneStorage, as any remote).
// Wall time, CPU (user+sys), peak RSS (/usr/bin/time -v), ratios ours/restic. Results: bench/results/.
// `node bench/repository-restore-bench.ts --child <storage> <repo> <snapshot> <target>` is the measured process.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { binPath, machine, run, saveResults, workDir } from "./lib.ts";

const dist = path.join(import.meta.dirname, "..", "dist");
const PASS = "bench password, not a secret";
const MIB = 1 << 20;
const GIB = 1 << 30;

// ---- the measured process: ours ---------------------------------------------------------------------------------

if (process.argv[2] === "--child" || process.argv[2] === "--child-read") {
  const readOnly = process.argv[2] === "--child-read";
  const [, , , kind, repoLocation, snapshot, target, conf] = process.argv;
  const { Repository } = await import(path.join(dist, "backup/formats/repository/repository.js"));
  const { DirStorage } = await import(path.join(dist, "backup/formats/repository/backend-dir.js"));
  const { RcloneStorage } = await import(path.join(dist, "backup/formats/repository/backend.js"));
  const { openRepositorySnapshot } = await import(path.join(dist, "backup/formats/repository/reader.js"));
  const { restoreReader } = await import(path.join(dist, "backup/restore/snapshot-source.js"));
  const { findRclone } = await import(path.join(dist, "rclone/binary.js"));
  const storage =
    kind === "dir" ? new DirStorage(repoLocation) : new RcloneStorage({ bin: await findRclone(), configPath: conf, remotePath: repoLocation, env: process.env });
  const repo = await Repository.open(storage, PASS);
  if (readOnly) {
    // The reading side alone: every entry and every byte of content, verified, nothing written.
    let bytes = 0;
    const check = await openRepositorySnapshot(repo, snapshot!).entries(async (e: { content(): AsyncIterable<Uint8Array> }) => {
      for await (const c of e.content()) bytes += c.length;
    });
    await repo.close();
    process.stdout.write(JSON.stringify({ bytes, storedBytes: check.storedBytes }));
    process.exit(0);
  }
  mkdirSync(target!, { recursive: true });
  const { stats, check } = await restoreReader(openRepositorySnapshot(repo, snapshot!), target!);
  await repo.close();
  process.stdout.write(JSON.stringify({ files: stats.files, bytes: stats.bytes, storedBytes: check.storedBytes }));
  process.exit(0);
}

// ---- data sets ----------------------------------------------------------------------------------------------------

/** xorshift32: deterministic data without Math.random. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function textPool(rnd: () => number): Buffer {
  const words = Array.from({ length: 4000 }, () => Array.from({ length: 2 + Math.floor(rnd() * 9) }, () => String.fromCharCode(97 + Math.floor(rnd() * 26))).join(""));
  const parts: string[] = [];
  let size = 0;
  while (size < 64 << 20) {
    const line = Array.from({ length: 6 + Math.floor(rnd() * 12) }, () => words[Math.floor(rnd() * words.length)]).join(" ") + ".\n";
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join(""));
}

function randomFile(file: string, len: number, rnd: () => number): void {
  const buf = Buffer.allocUnsafe(len);
  for (let o = 0; o + 4 <= len; o += 4) buf.writeUInt32LE((rnd() * 2 ** 32) >>> 0, o);
  writeFileSync(file, buf);
}

/** `textBytes` of text files (slices of a prose pool, `minText`..`maxText` bytes) and `mediaBytes` of random binaries. */
function makeDataset(dir: string, o: { seed: number; textBytes: number; minText: number; maxText: number; mediaFiles?: number; mediaBytes: number }): void {
  if (existsSync(path.join(dir, ".complete"))) return;
  rmSync(dir, { recursive: true, force: true });
  const rnd = prng(o.seed);
  const pool = textPool(rnd);
  let text = 0;
  let i = 0;
  while (text < o.textBytes) {
    const len = o.minText + Math.floor(rnd() * (o.maxText - o.minText));
    const off = Math.floor(rnd() * (pool.length - len));
    const sub = path.join(dir, "notes", `d${String(Math.floor(i / 500)).padStart(3, "0")}`);
    if (i % 500 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `n${i}.md`), pool.subarray(off, off + len));
    text += len;
    i++;
  }
  mkdirSync(path.join(dir, "media"), { recursive: true });
  if (o.mediaFiles) {
    for (let m = 0; m < o.mediaFiles; m++) randomFile(path.join(dir, "media", `m${m}.bin`), Math.floor(o.mediaBytes / o.mediaFiles), rnd);
  } else {
    let media = 0;
    for (let m = 0; media < o.mediaBytes; m++) {
      const len = 4 * MIB + Math.floor(rnd() * 12 * MIB);
      randomFile(path.join(dir, "media", `m${m}.bin`), len, rnd);
      media += len;
    }
  }
  writeFileSync(path.join(dir, ".complete"), "");
}

const SETS = {
  "1 GiB mixed": { dir: path.join(workDir, "restore-1g"), make: (d: string) => makeDataset(d, { seed: 42, textBytes: 0.6 * GIB, minText: 2048, maxText: 62_000, mediaBytes: 0.4 * GIB }) },
  "257 MB, 5,000 small files": {
    dir: path.join(workDir, "restore-257m"),
    // 5,000 text files of ~11 KB (55 MB) and 10 binaries of ~19 MiB (~202 MB)
    make: (d: string) => makeDataset(d, { seed: 7, textBytes: 55_000_000, minText: 1000, maxText: 21_000, mediaFiles: 10, mediaBytes: 202_000_000 }),
  },
};

// ---- measuring ----------------------------------------------------------------------------------------------------

interface Measure {
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
}

async function timedV(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measure & { stdout: string }> {
  const t = performance.now();
  const res = await run("/usr/bin/time", ["-v", cmd, ...args], env);
  const wallMs = performance.now() - t;
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${res.code}): ${res.stderr.slice(-3000)}`);
  const num = (re: RegExp) => Number(re.exec(res.stderr)?.[1] ?? NaN);
  return {
    wallMs,
    cpuMs: (num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/)) * 1000,
    peakRssMiB: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024,
    stdout: res.stdout,
  };
}

function du(dir: string): number {
  return Number(execFileSync("du", ["-sb", dir]).toString().split("\t")[0]);
}

function loadAvg(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(" ");
}

const passFile = path.join(workDir, "restore-bench.pass");
const conf = path.join(workDir, "restore-bench-rclone.conf");
const env = { ...process.env, RESTIC_PASSWORD_FILE: passFile, RCLONE_CONFIG: conf };
delete env.AWS_CA_BUNDLE;
delete env.RESTIC_PASSWORD;

mkdirSync(workDir, { recursive: true });
writeFileSync(passFile, PASS, { mode: 0o600 });
writeFileSync(conf, "[benchlocal]\ntype = local\n", { mode: 0o600 });

/** A product state dir whose backup folder (local provider) is the repository. */
function productEnv(repoDir: string): NodeJS.ProcessEnv {
  const stateDir = path.join(workDir, "restore-bench-state");
  mkdirSync(path.join(stateDir, "workspace"), { recursive: true });
  const config = { plugins: { entries: { "openclaw-workspace-sync": { config: { backup: { provider: "local", local: { path: repoDir }, include: ["workspace"], encrypt: true, passphrase: "${BACKUP_PASSPHRASE}" } } } } } };
  writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config));
  writeFileSync(path.join(stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
  const e = { ...process.env, OPENCLAW_STATE_DIR: stateDir };
  delete e.AWS_CA_BUNDLE;
  return e;
}

const results: Record<string, Record<string, Measure & { ratioTime?: number; ratioCpu?: number }>> = {};
const lines: string[] = [];
for (const [label, set] of Object.entries(SETS)) {
  if (process.env.BENCH_ONLY && !label.includes(process.env.BENCH_ONLY)) continue;
  console.log(`\n== ${label}: generating …`);
  set.make(set.dir);
  const repoDir = `${set.dir}-repo`;
  if (!existsSync(path.join(repoDir, "config"))) {
    rmSync(repoDir, { recursive: true, force: true });
    execFileSync("restic", ["init", "--repository-version", "2", "-r", repoDir, "-q"], { env });
    execFileSync("restic", ["backup", "-r", repoDir, "-q", "--host", "bench", "."], { env, cwd: set.dir });
  }
  const snapshot = (JSON.parse(execFileSync("restic", ["snapshots", "--json", "-r", repoDir], { env }).toString()) as { id: string }[]).at(-1)!.id;
  const bytes = du(set.dir);
  execFileSync("bash", ["-c", `cat '${repoDir}'/data/*/* > /dev/null`]); // warm the page cache for both
  results[label] = {};
  for (const transport of ["folder", "rclone"] as const) {
    const target = path.join(workDir, "restore-target");
    const fresh = () => rmSync(target, { recursive: true, force: true });
    fresh();
    const repoArg = transport === "folder" ? repoDir : `rclone:benchlocal:${repoDir}`;
    console.log(`  restic restore (${transport}) … load ${loadAvg()}`);
    const theirs = await timedV("restic", ["-r", repoArg, "--no-cache", "-q", "restore", snapshot, "--target", target], env);
    const restoredTheirs = du(target);
    fresh();
    console.log(`  ours (${transport}) … load ${loadAvg()}`);
    const ours = await timedV(
      process.execPath,
      [import.meta.filename, "--child", transport === "folder" ? "dir" : "rclone", transport === "folder" ? repoDir : `benchlocal:${repoDir}`, snapshot, target, conf],
      env,
    );
    const restoredOurs = du(target);
    fresh();
    console.log(`  ours, reading side only (${transport}) … load ${loadAvg()}`);
    const reading = await timedV(
      process.execPath,
      [import.meta.filename, "--child-read", transport === "folder" ? "dir" : "rclone", transport === "folder" ? repoDir : `benchlocal:${repoDir}`, snapshot, target, conf],
      env,
    );
    const r = { ratioTime: ours.wallMs / theirs.wallMs, ratioCpu: ours.cpuMs / theirs.cpuMs };
    results[label][`ours-${transport}`] = { wallMs: ours.wallMs, cpuMs: ours.cpuMs, peakRssMiB: ours.peakRssMiB, ...r };
    results[label][`restic-${transport}`] = { wallMs: theirs.wallMs, cpuMs: theirs.cpuMs, peakRssMiB: theirs.peakRssMiB };
    const f = (m: Measure) => `${(m.wallMs / 1000).toFixed(2)} s | ${(m.cpuMs / 1000).toFixed(2)} s | ${m.peakRssMiB.toFixed(0)} MiB`;
    results[label][`ours-reading-${transport}`] = { wallMs: reading.wallMs, cpuMs: reading.cpuMs, peakRssMiB: reading.peakRssMiB, ratioTime: reading.wallMs / theirs.wallMs, ratioCpu: reading.cpuMs / theirs.cpuMs };
    lines.push(`| ${label} | ${transport} | ours: reader → today's restore writer | ${f(ours)} | ${r.ratioTime.toFixed(2)}x | ${r.ratioCpu.toFixed(2)}x |`);
    lines.push(`| ${label} | ${transport} | ours: reader alone (all content read and verified, nothing written) | ${f(reading)} | ${(reading.wallMs / theirs.wallMs).toFixed(2)}x | ${(reading.cpuMs / theirs.cpuMs).toFixed(2)}x |`);
    lines.push(`| ${label} | ${transport} | restic 0.14 | ${f(theirs)} | 1 | 1 |`);
    console.log(lines.slice(-3).map((l) => `  ${l}`).join("\n"));
    if (Math.abs(restoredOurs - restoredTheirs) > restoredTheirs * 0.01) console.log(`  WARNING: restored ${restoredOurs} bytes (ours) vs ${restoredTheirs} (restic)`);
    void bytes;
    if (transport === "rclone") {
      // The product itself: `workspace-sync backup restore` with the repository as the backup folder (local provider).
      const cliEnv = productEnv(repoDir);
      console.log(`  ours: backup restore (CLI) … load ${loadAvg()}`);
      const cli = await timedV(process.execPath, [binPath, "backup", "restore", "--snapshot", snapshot.slice(0, 8), "--to", target, "-q"], cliEnv);
      const restoredCli = du(target);
      fresh();
      results[label]["ours-cli"] = { wallMs: cli.wallMs, cpuMs: cli.cpuMs, peakRssMiB: cli.peakRssMiB, ratioTime: cli.wallMs / theirs.wallMs, ratioCpu: cli.cpuMs / theirs.cpuMs };
      lines.push(`| ${label} | rclone (local provider) | ours: \`backup restore\` (CLI, today's writer) | ${f(cli)} | ${(cli.wallMs / theirs.wallMs).toFixed(2)}x | ${(cli.cpuMs / theirs.cpuMs).toFixed(2)}x |`);
      console.log(`  ${lines.at(-1)}`);
      if (Math.abs(restoredCli - restoredTheirs) > restoredTheirs * 0.01) console.log(`  WARNING: restored ${restoredCli} bytes (CLI) vs ${restoredTheirs} (restic)`);
    }
  }
}

const md = [
  "# Restore from a restic-format repository: ours vs restic 0.14 (same repository, same disk, one run each)",
  "",
  "```json",
  JSON.stringify({ ...machine(), loadAfter: loadAvg() }, null, 2),
  "```",
  "",
  "The repository is written by `restic backup` (v2, compressed); both restore its snapshot into an empty folder on",
  "the same disk, page cache warm. Ours = the product's reader (trees walked ahead, data fetched per pack range, 4",
  "reads in flight, every blob verified) feeding the format-neutral restore writer, in its own Node process.",
  "CPU = user + system of the measured process (for `rclone:` transports the rclone child counts towards restic's and",
  "ours alike only through the process tree /usr/bin/time reports). Ratios: ours / restic (goal: time ≤ 1; RSS < 150 MiB).",
  "",
  "| data set | transport | tool | wall | CPU | peak RSS | time ratio | CPU ratio |",
  "|---|---|---|---|---|---|---|---|",
  ...lines,
  "",
].join("\n");
const saved = saveResults("repository-restore", { machine: machine(), results }, md);
console.log(md);
console.log(`results: ${saved}.{json,md}`);
