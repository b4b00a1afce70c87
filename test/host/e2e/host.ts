// Drives the real OpenClaw host (the version pinned in test/host/package.json) in a throwaway state dir.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const HOST_DIR = path.resolve(import.meta.dirname, "..");
export const REPO = path.resolve(HOST_DIR, "../..");
export const HOST_BIN = path.join(HOST_DIR, "node_modules", ".bin");
export const PLUGIN_ID = "openclaw-workspace-sync";
export const TOKEN = "ws-host-suite-token-0123456789";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The user's npm cache, resolved before HOME is redirected: copy installs resolve dependencies offline from it. */
const NPM_CACHE = (() => {
  try {
    return execFileSync("npm", ["config", "get", "cache"], { encoding: "utf8" }).trim();
  } catch {
    return path.join(os.homedir(), ".npm");
  }
})();

export class HostWorld {
  readonly root: string;
  readonly home: string;
  readonly stateDir: string;
  readonly configFile: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(label: string, extraEnv: NodeJS.ProcessEnv = {}) {
    this.root = mkdtempSync(path.join(os.tmpdir(), `ws-host-${label}-`));
    this.home = path.join(this.root, "home");
    this.stateDir = path.join(this.root, "state");
    this.configFile = path.join(this.stateDir, "openclaw.json");
    mkdirSync(this.home, { recursive: true });
    mkdirSync(path.join(this.root, "tmp"), { recursive: true });
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      // nothing of the caller's OpenClaw or npm-script context may leak into the throwaway host
      if (/^(OPENCLAW_|npm_|NODE_OPTIONS$|VITEST|TEST$)/.test(k)) continue;
      base[k] = v;
    }
    this.env = {
      ...base,
      PATH: `${HOST_BIN}${path.delimiter}${process.env.PATH ?? ""}`,
      HOME: this.home,
      OPENCLAW_STATE_DIR: this.stateDir,
      OPENCLAW_CONFIG_PATH: this.configFile,
      TMPDIR: path.join(this.root, "tmp"),
      NO_COLOR: "1",
      FORCE_COLOR: "0",
      npm_config_cache: NPM_CACHE,
      npm_config_offline: "true",
      npm_config_update_notifier: "false",
      npm_config_audit: "false",
      npm_config_fund: "false",
      ...extraEnv,
    };
  }

  get workspace(): string {
    return path.join(this.stateDir, "workspace");
  }

  openclaw(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run(path.join(HOST_BIN, "openclaw"), args, { env: this.env, cwd: this.root, ...opts });
  }

  async ok(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    const r = await this.openclaw(args, opts);
    if (r.code !== 0) throw new Error(`openclaw ${args.join(" ")} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    return r;
  }

  readConfig(): Record<string, any> {
    return JSON.parse(readFileSync(this.configFile, "utf8"));
  }

  /** Edits openclaw.json like a user would (the gateway must not be running). */
  editConfig(change: (cfg: Record<string, any>) => void): void {
    const cfg = this.readConfig();
    change(cfg);
    writeFileSync(this.configFile, `${JSON.stringify(cfg, null, 2)}\n`);
  }

  setPluginConfig(config: unknown): void {
    this.editConfig((cfg) => {
      cfg.plugins ??= {};
      cfg.plugins.entries ??= {};
      cfg.plugins.entries[PLUGIN_ID] = { ...(cfg.plugins.entries[PLUGIN_ID] ?? {}), enabled: true, config };
    });
  }

  /** Loads a local plugin folder through plugins.load.paths (used for the test probe). */
  addLoadPath(dir: string, id: string): void {
    this.editConfig((cfg) => {
      cfg.plugins ??= {};
      cfg.plugins.load ??= {};
      cfg.plugins.load.paths = [...new Set([...(cfg.plugins.load.paths ?? []), dir])];
      cfg.plugins.entries ??= {};
      cfg.plugins.entries[id] = { enabled: true };
    });
  }
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} timed out after ${opts.timeoutMs ?? 120_000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** `npm pack` of the repository (built dist/ must exist): the exact artifact users install. */
export async function packPlugin(dest: string): Promise<string> {
  if (!existsSync(path.join(REPO, "dist", "index.js"))) throw new Error("dist/index.js is missing: run `npm run build` first");
  const r = await run("npm", ["pack", "--json", "--pack-destination", dest, "--ignore-scripts"], { cwd: REPO, env: { ...process.env, npm_config_update_notifier: "false" } });
  if (r.code !== 0) throw new Error(`npm pack failed:\n${r.stderr}`);
  const info = JSON.parse(r.stdout) as { filename: string }[];
  return path.join(dest, info[0]!.filename);
}

/** Production dependency closure of the repository, copied from its node_modules (no network). */
export function copyProdDeps(intoPackageDir: string): void {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const src = path.join(REPO, "node_modules", name);
    cpSync(src, path.join(intoPackageDir, "node_modules", name), { recursive: true, dereference: true });
    const pkg = JSON.parse(readFileSync(path.join(src, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
  };
  const root = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(root.dependencies ?? {})) visit(dep);
}

/** A checkout-shaped plugin folder (package files + production deps) for `plugins install -l`. */
export async function linkableCheckout(tgz: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const r = await run("tar", ["-xzf", tgz, "-C", dir, "--strip-components=1"]);
  if (r.code !== 0) throw new Error(`tar failed: ${r.stderr}`);
  copyProdDeps(dir);
  return dir;
}

export function parseJsonOut(text: string): any {
  const start = text.indexOf("{");
  if (start < 0) throw new Error(`no JSON in output:\n${text}`);
  return JSON.parse(text.slice(start));
}

export class Gateway {
  private child: ChildProcess | undefined;
  log = "";
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(
    private readonly world: HostWorld,
    readonly port: number,
  ) {}

  start(): void {
    const child = spawn(
      path.join(HOST_BIN, "openclaw"),
      ["gateway", "run", "--bind", "loopback", "--auth", "token", "--token", TOKEN, "--port", String(this.port)],
      { env: this.world.env, cwd: this.world.root, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    child.stdout?.on("data", (d) => (this.log += d));
    child.stderr?.on("data", (d) => (this.log += d));
    this.exit = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the log line matching `re` (searching from `from`), or throws with the log after timeoutMs. */
  async waitFor(re: RegExp, timeoutMs = 60_000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.log.slice(from).split("\n").find((l) => re.test(l));
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`gateway log never matched ${re} within ${timeoutMs} ms:\n${this.log.slice(-6000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  count(re: RegExp): number {
    return this.log.split("\n").filter((l) => re.test(l)).length;
  }

  call(method: string, params: unknown = {}, timeoutMs = 30_000): Promise<RunResult> {
    return this.world.openclaw(
      ["gateway", "call", method, "--json", "--token", TOKEN, "--port", String(this.port), "--timeout", String(timeoutMs), "--params", JSON.stringify(params)],
      { timeoutMs: timeoutMs + 30_000 },
    );
  }

  async callJson(method: string, params: unknown = {}): Promise<any> {
    const r = await this.call(method, params);
    if (r.code !== 0) throw new Error(`gateway call ${method} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return parseJsonOut(r.stdout);
  }

  async stop(signal: NodeJS.Signals = "SIGINT", timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child || !this.exit) throw new Error("gateway not started");
    this.child.kill(signal);
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}
