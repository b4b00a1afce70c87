// Shared bench helpers: timing, request-counting proxy, results files. Run with Node 24 (native TS).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const workDir = path.join(repo, "bench", ".work");
export const binPath = path.join(repo, "bin", "workspace-sync.js");

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr, stdout }));
  });
}

/** HTTP proxy in front of a loopback server that counts the requests passing through it. */
export async function countingProxy(targetPort: number): Promise<{ port: number; count: () => number; reset: () => void; close: () => void }> {
  let requests = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    requests++;
    const upstream = http.request(
      { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    count: () => requests,
    reset: () => (requests = 0),
    close: () => {
      server.close();
      agent.destroy();
    },
  };
}

export function machine(): Record<string, unknown> {
  let commit = "";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repo }).toString().trim();
  } catch {
    commit = "unknown";
  }
  const rclone = execFileSync("rclone", ["version"]).toString().split("\n")[0];
  return { date: new Date().toISOString(), commit, node: process.version, rclone, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) };
}

export function saveResults(name: string, data: unknown, markdown: string): string {
  const dir = path.join(repo, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:]/g, "");
  const base = path.join(dir, `${name}-${stamp}`);
  writeFileSync(`${base}.json`, JSON.stringify(data, null, 2));
  writeFileSync(`${base}.md`, markdown);
  return base;
}

/** xorshift32: deterministic data without Math.random. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** A pool of prose-like text (lines of pseudo-words): text files are slices of it. */
function textPool(rnd: () => number, bytes: number): Buffer {
  const words = Array.from({ length: 4000 }, () => Array.from({ length: 2 + Math.floor(rnd() * 9) }, () => String.fromCharCode(97 + Math.floor(rnd() * 26))).join(""));
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = Array.from({ length: 6 + Math.floor(rnd() * 12) }, () => words[Math.floor(rnd() * words.length)]).join(" ") + ".\n";
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join(""));
}

function randomBinary(rnd: () => number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  for (let o = 0; o + 4 <= len; o += 4) buf.writeUInt32LE((rnd() * 2 ** 32) >>> 0, o);
  return buf;
}

export interface DatasetSpec {
  /** Total bytes of text files. */
  textBytes: number;
  /** Text files: size = min + random * spread. */
  textMin: number;
  textSpread: number;
  /** Text files per folder. */
  perDir: number;
  /** Exactly this many text files (instead of filling textBytes). */
  textFiles?: number;
  /** Binary (incompressible) files: total bytes, or a fixed count and size. */
  mediaBytes?: number;
  mediaFiles?: { count: number; size: number };
}

/** A deterministic workspace: `notes/dNNN/nI.md` text files and `media/mI.bin` binaries; built once, reused. */
export function makeDataset(dir: string, spec: DatasetSpec, seed = 42): void {
  // The marker sits beside the tree, not in it: every tool backs up exactly the generated files.
  const done = `${dir}.complete`;
  if (existsSync(done) && existsSync(dir)) return;
  rmSync(dir, { recursive: true, force: true });
  const rnd = prng(seed);
  // 64 MiB of text; files are slices far apart, so no cross-file matches in zstd's window.
  const pool = textPool(rnd, 64 << 20);
  let textBytes = 0;
  let i = 0;
  while (spec.textFiles !== undefined ? i < spec.textFiles : textBytes < spec.textBytes) {
    const len = spec.textMin + Math.floor(rnd() * spec.textSpread);
    const off = Math.floor(rnd() * (pool.length - len));
    const sub = path.join(dir, "notes", `d${String(Math.floor(i / spec.perDir)).padStart(3, "0")}`);
    if (i % spec.perDir === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `n${i}.md`), pool.subarray(off, off + len));
    textBytes += len;
    i++;
  }
  mkdirSync(path.join(dir, "media"), { recursive: true });
  if (spec.mediaFiles) {
    for (let m = 0; m < spec.mediaFiles.count; m++) writeFileSync(path.join(dir, "media", `m${m}.bin`), randomBinary(rnd, spec.mediaFiles.size));
  } else {
    let mediaBytes = 0;
    let m = 0;
    while (mediaBytes < (spec.mediaBytes ?? 0)) {
      const len = 4 * (1 << 20) + Math.floor(rnd() * 12 * (1 << 20));
      writeFileSync(path.join(dir, "media", `m${m++}.bin`), randomBinary(rnd, len));
      mediaBytes += len;
    }
  }
  writeFileSync(done, "");
}

const GIB = 1 << 30;

/** Data set (b): 1 GiB mixed, 60% text-like files of 2–62 KB (~20,000), 40% incompressible media of 4–16 MiB. */
export const MIXED_1G: DatasetSpec = { textBytes: 0.6 * GIB, textMin: 2048, textSpread: 60_000, perDir: 500, mediaBytes: 0.4 * GIB };

/** Data set (a), issue 15's workspace: 5,000 small text files (~47 MB, 0.5–18 KB) + 10 × 20 MiB binaries = 257 MB. */
export const SMALL_257M: DatasetSpec = { textBytes: 0, textFiles: 5000, textMin: 512, textSpread: 18_000, perDir: 100, mediaFiles: { count: 10, size: 20 << 20 } };

export interface Measure {
  wallMs: number;
  /** user + system CPU of the process and every child it waited for. */
  cpuMs: number;
  userMs: number;
  sysMs: number;
  /** The largest single process of the run (/usr/bin/time -v). */
  peakRssMiB: number;
}

/** Runs a command under /usr/bin/time -v: wall time, CPU (children included) and peak RSS; throws when it fails. */
export async function timedV(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measure & { stdout: string }> {
  const t = performance.now();
  const res = await run("/usr/bin/time", ["-v", cmd, ...args], env);
  const wallMs = performance.now() - t;
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${res.code}): ${res.stderr.slice(-2000)}`);
  const num = (re: RegExp) => Number(re.exec(res.stderr)?.[1] ?? NaN);
  const userMs = num(/User time \(seconds\): ([\d.]+)/) * 1000;
  const sysMs = num(/System time \(seconds\): ([\d.]+)/) * 1000;
  return { wallMs, userMs, sysMs, cpuMs: userMs + sysMs, peakRssMiB: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, stdout: res.stdout };
}

export const BENCH_PASSPHRASE = "bench passphrase, not a secret";

/**
 * A state dir whose config backs `workspace` up to a local-folder remote, encrypted with a passphrase from
 * <stateDir>/.env (as users run it); returns the environment for the CLI.
 */
export function productWorld(stateDir: string, remoteDir: string, extra: Record<string, unknown> = {}): NodeJS.ProcessEnv {
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(remoteDir, { recursive: true });
  const config = {
    plugins: {
      entries: {
        "openclaw-workspace-sync": {
          config: {
            backup: { provider: "local", local: { path: remoteDir }, include: ["workspace"], encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", retain: 100, compression: "zstd" },
            ...extra,
          },
        },
      },
    },
  };
  writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config));
  writeFileSync(path.join(stateDir, ".env"), `BACKUP_PASSPHRASE=${BENCH_PASSPHRASE}\n`, { mode: 0o600 });
  const env = { ...process.env, OPENCLAW_STATE_DIR: stateDir };
  delete env.AWS_CA_BUNDLE;
  return env;
}

/** Files and bytes under a folder (a restore's check against its source). */
export function treeTotals(dir: string): { files: number; bytes: number } {
  const out = execFileSync("find", [dir, "-type", "f", "-printf", "%s\\n"], { maxBuffer: 1 << 28 }).toString().trim().split("\n").filter(Boolean);
  return { files: out.length, bytes: out.reduce((n, s) => n + Number(s), 0) };
}
