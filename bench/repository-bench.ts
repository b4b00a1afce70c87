// The restic-format repository side by side with the real restic (`npm run bench repository`, or `npm run build` then
// `node bench/repository-bench.ts`): the same workspace, the same disk, one run each, contenders alternating:
//   first backup            (empty repository)
//   second backup           after 10 text files changed (time, and bytes the repository grew by)
//   unchanged backup        nothing changed
//   restore                 the whole newest snapshot into an empty folder
// Ours: `workspace-sync backup now` with backup.format "repository" on a local-folder remote (through
// `rclone serve restic --stdio`, as on every remote); restic 0.14: `restic backup` into a local-path repository.
// Data sets: (a) 257 MB (5,000 text files + 10 × 20 MiB binaries), (b) 1 GiB mixed (60% text, 40% media); BENCH_SETS.
// BENCH_REMOTE=sftp: both repositories on `rclone serve sftp` on loopback instead (ours through its rclone remote,
// restic through `-r rclone:…`, i.e. `rclone serve restic --stdio` over the same sftp server).
// Wall time, CPU (children included), peak RSS of the largest process (/usr/bin/time -v); ratios ours/restic.
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { appendFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BENCH_PASSPHRASE, binPath, machine, makeDataset, type Measure, MIXED_1G, productWorld, saveResults, SMALL_257M, timedV, workDir } from "./lib.ts";

const SETS = (process.env.BENCH_SETS ?? "a,b").split(",");
const REMOTE = process.env.BENCH_REMOTE === "sftp" ? "sftp" : "local";
const node = process.execPath;
const DATASETS = [
  { id: "a", label: "(a) 257 MB: 5,000 text files + 10 × 20 MiB binaries", dir: path.join(workDir, "ds-small"), spec: SMALL_257M },
  { id: "b", label: "(b) 1 GiB mixed (60% text, 40% media)", dir: path.join(workDir, "ds-mixed-1g"), spec: MIXED_1G },
].filter((d) => SETS.includes(d.id));

type Step = "first" | "second" | "unchanged" | "restore";
const STEPS: Step[] = ["first", "second", "unchanged", "restore"];
type Row = Measure & { addedBytes?: number };

const du = (dir: string) => Number(execFileSync("du", ["-sb", dir]).toString().split("\t")[0]);

/** Ten text files of the workspace, the same ones for both tools: each gets a line appended. */
function changeTenFiles(ws: string, round: number): void {
  const picked: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (picked.length >= 10) return;
      const p = path.join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.size < 100_000) picked.push(p);
    }
  };
  walk(ws);
  for (const f of picked) appendFileSync(f, `changed in round ${round}\n`);
}

/** ed25519 keys for the loopback sftp server: PKCS#8 PEM (rclone reads it) and the OpenSSH public line. */
function sshKeys(dir: string, name: string): { key: string; pub: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const key = path.join(dir, name);
  writeFileSync(key, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  return { key, pub: `ssh-ed25519 ${Buffer.concat([str(Buffer.from("ssh-ed25519")), str(raw)]).toString("base64")} ${name}\n` };
}

/** `rclone serve sftp` over `root` (key login only); the rclone options that reach it, and how to stop it. */
async function sftpServer(base: string, root: string): Promise<{ options: Record<string, string>; stop: () => void }> {
  const priv = path.join(base, "sftp-private");
  mkdirSync(priv, { recursive: true, mode: 0o700 });
  mkdirSync(root, { recursive: true });
  const host = sshKeys(priv, "host");
  const client = sshKeys(priv, "client");
  writeFileSync(path.join(priv, "authorized_keys"), client.pub, { mode: 0o600 });
  writeFileSync(path.join(priv, "empty.conf"), "", { mode: 0o600 });
  const args = ["serve", "sftp", root, "--addr", "127.0.0.1:0", "--user", "bench", "--key", host.key, "--authorized-keys", path.join(priv, "authorized_keys"), "--config", path.join(priv, "empty.conf")];
  const proc = spawn("rclone", args, { stdio: ["ignore", "ignore", "pipe"] });
  const port = await new Promise<string>((resolve, reject) => {
    let log = "";
    proc.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /SFTP server listening on \S*:(\d+)/.exec(log);
      if (m) resolve(m[1]!);
    });
    proc.on("exit", () => reject(new Error(`rclone serve sftp exited: ${log}`)));
  });
  const options = { host: "127.0.0.1", port, user: "bench", key_file: client.key, shell_type: "unix", md5sum_command: "md5sum", sha1sum_command: "sha1sum" };
  return { options, stop: () => proc.kill() };
}

async function ours(ws: string, step: Step, env: NodeJS.ProcessEnv, remote: string, target: string): Promise<Row> {
  if (step === "restore") return timedV(node, [binPath, "backup", "restore", "-q", "--workspace", ws, "--to", target], env);
  const before = du(remote);
  const m = await timedV(node, [binPath, "backup", "now", "-q", "--workspace", ws], env);
  return { ...m, addedBytes: du(remote) - before };
}

/** `repo`: what restic is given (-r); `repoDir`: where its files are on this disk. */
async function restic(ws: string, step: Step, env: NodeJS.ProcessEnv, repo: string, repoDir: string, target: string): Promise<Row> {
  // Both keep a local cache (index, snapshots, tree packs), both start with it empty.
  const cache = ["--cache-dir", path.join(path.dirname(target), "restic-cache")];
  if (step === "restore") return timedV("restic", ["-r", repo, ...cache, "restore", "latest", "--target", target, "-q"], env);
  const before = du(repoDir);
  const m = await timedV("restic", ["-r", repo, ...cache, "backup", "-q", "--host", "bench", ws], env);
  return { ...m, addedBytes: du(repoDir) - before };
}

async function benchSet(ds: (typeof DATASETS)[number]) {
  console.log(`\n${ds.label}: generating …`);
  makeDataset(ds.dir, ds.spec);
  const base = path.join(workDir, `repo-bench-${ds.id}`);
  rmSync(base, { recursive: true, force: true });
  // A copy: the second backup changes ten files, and the generated set is shared with the other benches.
  const ws = path.join(base, "ws");
  mkdirSync(base, { recursive: true });
  execFileSync("cp", ["-a", ds.dir, ws]);
  execFileSync("bash", ["-c", `tar -C '${ws}' -c . > /dev/null`]); // warm the page cache
  let ourRemote = path.join(base, "ours-remote");
  const ourEnv = productWorld(path.join(base, "ours-state"), ourRemote);
  // productWorld writes an archive config: switch it to the repository format.
  const cfgFile = path.join(base, "ours-state", "openclaw.json");
  const cfg = JSON.parse(execFileSync("cat", [cfgFile]).toString());
  cfg.plugins.entries["openclaw-workspace-sync"].config.backup.format = "repository";
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const pwFile = path.join(base, "restic-pw");
  writeFileSync(pwFile, BENCH_PASSPHRASE, { mode: 0o600 });
  const resticEnv: NodeJS.ProcessEnv = { ...process.env, RESTIC_PASSWORD_FILE: pwFile };
  delete resticEnv.AWS_CA_BUNDLE;
  // Where each repository's files are on this disk (du), and how each tool names it.
  let resticRepo = path.join(base, "restic-repo");
  let resticRepoArg = resticRepo;
  let stopServer = () => {};
  if (REMOTE === "sftp") {
    const root = path.join(base, "sftp-root");
    const server = await sftpServer(base, root);
    stopServer = server.stop;
    cfg.plugins.entries["openclaw-workspace-sync"].config.backup = {
      ...cfg.plugins.entries["openclaw-workspace-sync"].config.backup,
      provider: "custom",
      custom: { rcloneType: "sftp", rcloneOptions: server.options },
      prefix: "ours-repo",
      local: undefined,
    };
    writeFileSync(cfgFile, JSON.stringify(cfg));
    ourRemote = path.join(root, "ours-repo");
    mkdirSync(ourRemote, { recursive: true });
    const rcloneConf = path.join(base, "restic-rclone.conf");
    writeFileSync(rcloneConf, `[bs]\ntype = sftp\n${Object.entries(server.options).map(([k, v]) => `${k} = ${v}`).join("\n")}\n`, { mode: 0o600 });
    resticEnv.RCLONE_CONFIG = rcloneConf;
    resticRepo = path.join(root, "restic-repo");
    resticRepoArg = "rclone:bs:restic-repo";
  }
  // Timed apart: our first backup creates the repository itself (key calibration and derivation included), restic's
  // runs after an `init` that paid its own.
  const resticInit = await timedV("restic", ["-r", resticRepoArg, "init", "--repository-version", "2", "-q"], resticEnv);
  console.log(`  init      restic ${(resticInit.wallMs / 1000).toFixed(2)} s wall (ours: inside its first backup)`);

  const rows: Record<"ours" | "restic", Partial<Record<Step, Row>>> = { ours: {}, restic: {} };
  for (const step of STEPS) {
    if (step === "second") changeTenFiles(ws, 1);
    const order = (["ours", "restic"] as const).slice();
    if (STEPS.indexOf(step) % 2) order.reverse();
    for (const who of order) {
      const target = path.join(base, `${who}-restore`);
      rmSync(target, { recursive: true, force: true });
      mkdirSync(target, { recursive: true });
      execFileSync("sync");
      const m = who === "ours" ? await ours(ws, step, ourEnv, ourRemote, target) : await restic(ws, step, resticEnv, resticRepoArg, resticRepo, target);
      rows[who][step] = m;
      const added = m.addedBytes !== undefined ? `, +${(m.addedBytes / 1e6).toFixed(2)} MB` : "";
      console.log(`  ${step.padEnd(9)} ${who.padEnd(6)} ${(m.wallMs / 1000).toFixed(2)} s wall, ${(m.cpuMs / 1000).toFixed(2)} s CPU, ${m.peakRssMiB.toFixed(0)} MiB${added}`);
    }
  }
  // Both restores hold the same bytes (a restore that lost something is no contender).
  const sizeOf = (who: string) => du(path.join(base, `${who}-restore`));
  console.log(`  restored bytes: ours ${sizeOf("ours")}, restic ${sizeOf("restic")}`);
  rmSync(path.join(base, "ours-restore"), { recursive: true, force: true });
  rmSync(path.join(base, "restic-restore"), { recursive: true, force: true });
  rmSync(ws, { recursive: true, force: true });
  stopServer();
  const ratios = Object.fromEntries(STEPS.map((s) => [s, rows.ours[s]!.wallMs / rows.restic[s]!.wallMs]));
  const addedRatio = rows.ours.second!.addedBytes! / Math.max(1, rows.restic.second!.addedBytes!);
  return { id: ds.id, label: ds.label, rows, ratios, addedRatio, resticInitMs: resticInit.wallMs, stored: { ours: du(ourRemote), restic: du(resticRepo) } };
}

const results = [];
for (const ds of DATASETS) results.push(await benchSet(ds));

const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
let md = `# Repository format vs restic 0.14 (${REMOTE === "sftp" ? "both on rclone serve sftp, loopback" : "local-folder repositories"})\n\n${JSON.stringify(machine())}\n`;
for (const r of results) {
  md += `\n## ${r.label}\n\n| step | ours | restic | ours/restic | ours peak RSS | restic peak RSS |\n|---|---|---|---|---|---|\n`;
  for (const s of STEPS) {
    const o = r.rows.ours[s]!;
    const t = r.rows.restic[s]!;
    md += `| ${s} | ${f(o.wallMs)} | ${f(t.wallMs)} | ${r.ratios[s]!.toFixed(2)}x | ${o.peakRssMiB.toFixed(0)} MiB | ${t.peakRssMiB.toFixed(0)} MiB |\n`;
  }
  md += `\nOur first backup creates the repository; restic's \`init\` before its first took ${f(r.resticInitMs)} (restic init + first: ${f(r.resticInitMs + r.rows.restic.first!.wallMs)}, ours/that ${(r.rows.ours.first!.wallMs / (r.resticInitMs + r.rows.restic.first!.wallMs)).toFixed(2)}x).\n`;
  md += `\nSecond backup added: ours ${(r.rows.ours.second!.addedBytes! / 1e3).toFixed(0)} kB, restic ${(r.rows.restic.second!.addedBytes! / 1e3).toFixed(0)} kB (${r.addedRatio.toFixed(2)}x). `;
  md += `Repository size after all runs: ours ${(r.stored.ours / 1e6).toFixed(1)} MB, restic ${(r.stored.restic / 1e6).toFixed(1)} MB.\n`;
}
console.log(`\n${md}`);
console.log(`written: ${saveResults(REMOTE === "sftp" ? "repository-sftp" : "repository", results, md)}`);
