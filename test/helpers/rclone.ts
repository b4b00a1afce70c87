// Test harness, rclone: the binary under test, a clean environment for it, and running it (readiness checks, tests).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, open } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/** The rclone binary under test (override with TEST_RCLONE_BIN). */
export const RCLONE_BIN: string = process.env.TEST_RCLONE_BIN ?? (existsSync("/usr/bin/rclone") ? "/usr/bin/rclone" : "rclone");

/**
 * Environment for rclone children: no AWS_* (AWS_CA_BUNDLE makes rclone 1.60's S3 backend fail with
 * LoadCustomCABundleError), no RCLONE_* (config path, remotes defined by RCLONE_CONFIG_<NAME>_*, flag
 * defaults), no proxies; loopback never proxied.
 */
export function rcloneEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    const upper = key.toUpperCase();
    if (upper.startsWith("AWS_") || upper.startsWith("RCLONE_")) continue;
    if (["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"].includes(upper)) continue;
    env[key] = value;
  }
  env.NO_PROXY = "127.0.0.1,localhost";
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------------------
// rclone CLI (for harness readiness checks and for tests)
// ---------------------------------------------------------------------------------------------------------

export interface RcloneCliOptions {
  /** rclone.conf; default /dev/null (never the user's own config). */
  config?: string;
  /** stdin for the child (rcat); default none. */
  input?: string | Buffer | Readable;
  timeoutMs?: number;
  /** Extra env on top of rcloneEnv(). */
  env?: NodeJS.ProcessEnv;
  /** Throw RcloneCliError on a non-zero exit (default true). */
  check?: boolean;
}

export interface RcloneCliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export class RcloneCliError extends Error {
  readonly args: string[];
  readonly result: RcloneCliResult;
  constructor(args: string[], result: RcloneCliResult) {
    const how = result.timedOut ? "timed out" : result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
    super(`rclone ${args.join(" ")} failed (${how}):\n${result.stderr.slice(-4000)}`);
    this.name = "RcloneCliError";
    this.args = args;
    this.result = result;
  }
}

/** Runs the real rclone with `--config` and a clean env. */
export function rclone(args: string[], opts: RcloneCliOptions = {}): Promise<RcloneCliResult> {
  const fullArgs = [...args, "--config", opts.config ?? "/dev/null"];
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(RCLONE_BIN, fullArgs, {
      env: rcloneEnv(opts.env),
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (c: Buffer) => out.push(c));
    child.stderr!.on("data", (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when rclone exits early
      const input = opts.input;
      if (typeof input === "string" || Buffer.isBuffer(input)) child.stdin.end(input);
      else input.pipe(child.stdin);
    }
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result: RcloneCliResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
        ms: Date.now() - started,
      };
      if ((opts.check ?? true) && (code !== 0 || timedOut)) reject(new RcloneCliError(args, result));
      else resolve(result);
    });
  });
}

/** rclone's own obscuring, secret passed on stdin (`rclone obscure -`), never in argv. */
export async function obscureWithRclone(secret: string): Promise<string> {
  if (/[\r\n]/.test(secret)) throw new Error("rclone obscure - reads one line: the secret cannot contain a line break");
  const { stdout } = await rclone(["obscure", "-"], { input: `${secret}\n`, timeoutMs: 15_000 });
  return stdout.trim();
}

/** Writes an rclone.conf (mode 0600) from sections; for tests only (the product has its own writer). */
export async function writeRcloneConf(file: string, sections: Record<string, Record<string, string>>): Promise<string> {
  const lines: string[] = [];
  for (const [name, section] of Object.entries(sections)) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`bad rclone remote name: ${name}`);
    lines.push(`[${name}]`);
    for (const [key, value] of Object.entries(section)) {
      if (!/^[A-Za-z0-9_]+$/.test(key) || /[\r\n\0]/.test(value)) throw new Error(`bad rclone option ${name}.${key}`);
      lines.push(`${key} = ${value}`);
    }
    lines.push("");
  }
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, "w", 0o600);
  try {
    await handle.writeFile(lines.join("\n"), "utf8");
  } finally {
    await handle.close();
  }
  await chmod(file, 0o600);
  return file;
}
