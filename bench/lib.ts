// Shared bench helpers: timing, request-counting proxy, results files. Run with Node 24 (native TS).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
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
