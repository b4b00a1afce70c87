// The real `restic` binary as the test oracle for the restic-format repository. The password reaches it through
// RESTIC_PASSWORD_FILE (a 0600 file), never argv. Tests only: the product never runs restic.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { rcloneEnv } from "../helpers/servers.js";

export const RESTIC_BIN = process.env.TEST_RESTIC_BIN ?? (existsSync("/usr/bin/restic") ? "/usr/bin/restic" : "restic");

export interface ResticResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ResticOptions {
  /** -r value: a local path or rclone:REMOTE:PATH. */
  repo: string;
  password: string;
  /** Extra environment (RCLONE_CONFIG for rclone: repositories). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Throw on a non-zero exit (default true). */
  check?: boolean;
  timeoutMs?: number;
  /** Standard input (for `backup --stdin`). */
  input?: string | Buffer;
}

let passDir: string | undefined;

async function passwordFile(password: string): Promise<string> {
  passDir ??= await mkdtemp(path.join(os.tmpdir(), "restic-pass-"));
  const file = path.join(passDir, `${Buffer.from(password).toString("hex").slice(0, 32)}-${password.length}`);
  await writeFile(file, password, { mode: 0o600 });
  return file;
}

/** Runs `restic -r REPO --no-cache ARGS…` and resolves with its output. */
export async function restic(args: string[], opts: ResticOptions): Promise<ResticResult> {
  const env = rcloneEnv({ RESTIC_PASSWORD_FILE: await passwordFile(opts.password), ...opts.env });
  delete env.RESTIC_PASSWORD;
  delete env.RESTIC_REPOSITORY;
  const full = ["-r", opts.repo, "--no-cache", ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(RESTIC_BIN, full, { env, cwd: opts.cwd, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if ((opts.check ?? true) && code !== 0) reject(new Error(`restic ${args.join(" ")} failed (exit ${code}):\n${stderr.slice(-3000)}\n${stdout.slice(-2000)}`));
      else resolve(result);
    });
  });
}

/** `restic init --repository-version 2` at a local path. */
export async function resticInit(repo: string, password: string, env?: NodeJS.ProcessEnv): Promise<void> {
  await restic(["init", "--repository-version", "2"], { repo, password, env });
}
