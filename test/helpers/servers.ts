// Test harness: real remotes on loopback for the real rclone binary.
//
// - startLocalRemote()  : a temp dir (rclone "local" backend).
// - startSftpServer()   : `rclone serve sftp` (password via env, never argv; ed25519 key auth also accepted).
// - startWebdavServer() : `rclone serve webdav` with basic auth (webdav backend, vendor=other).
// - startS3Server()     : s3rver in a child process (s3rver-runner.mjs), bucket pre-created.
//
// Every server child runs in its own process group and watches its stdin (proc-reaper.mjs / the s3rver
// runner), so it dies with the test process even when that is SIGKILLed; a process 'exit' hook and
// stopAll() also kill whatever a test forgot.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { createReadStream, existsSync, rmSync } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, open, readdir, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { CustomBlock, LocalBlock, S3Block } from "../../src/config/types.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REAPER = path.join(HERE, "proc-reaper.mjs");
const S3RVER_RUNNER = path.join(HERE, "s3rver-runner.mjs");

/** The rclone binary under test (override with TEST_RCLONE_BIN). */
export const RCLONE_BIN: string = process.env.TEST_RCLONE_BIN ?? (existsSync("/usr/bin/rclone") ? "/usr/bin/rclone" : "rclone");

/** Credentials s3rver accepts (its built-in account). */
export const S3RVER_KEY = "S3RVER";
export const S3RVER_SECRET = "S3RVER";

const LOOPBACK = "127.0.0.1";
const READY_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------------------

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** Rejects with TimeoutError when `promise` has not settled after `ms`. The timer never keeps the process alive. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago (the servers themselves bind port 0 and report theirs). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: LOOPBACK, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

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

// ---------------------------------------------------------------------------------------------------------
// Child process management
// ---------------------------------------------------------------------------------------------------------

const liveProcesses = new Set<ManagedProcess>();
const liveServers = new Set<TestServer>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const proc of liveProcesses) proc.killSync();
    if (!process.env.TEST_KEEP_SERVER_DIRS) {
      for (const dir of tempDirs) {
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {
          // best effort
        }
      }
    }
  });
}

async function makeTempDir(prefix: string): Promise<string> {
  installExitHook();
  const dir = await mkdtemp(path.join(os.tmpdir(), `ows-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

const MAX_LOG = 64 * 1024;

class ManagedProcess {
  private child: ChildProcess | undefined;
  private output = "";
  private exited: Promise<void> = Promise.resolve();
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly label: string;

  constructor(label: string) {
    this.label = label;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  log(): string {
    return this.output;
  }

  /** Spawns in a new process group; resolves with the match of `ready` in the output. */
  start(command: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = READY_TIMEOUT_MS): Promise<RegExpExecArray> {
    this.output = "";
    this.exitInfo = undefined;
    const child = spawn(command, args, { env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    liveProcesses.add(this);
    this.exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        liveProcesses.delete(this);
        resolve();
      });
      child.once("error", (err) => {
        this.output += `\n[spawn error] ${err.message}\n`;
        if (!this.exitInfo) this.exitInfo = { code: null, signal: null };
        liveProcesses.delete(this);
        resolve();
      });
    });
    // Never keep the test process alive for a server a test forgot to stop.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as net.Socket | null)?.unref?.();
    child.stdin!.on("error", () => {});

    return new Promise<RegExpExecArray>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString("utf8");
        if (this.output.length > MAX_LOG) this.output = this.output.slice(-MAX_LOG);
        // Matched on the raw text: rclone's webdav "started" notice has no trailing newline.
        const m = ready.exec(this.output);
        if (m) finish(() => resolve(m));
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      void this.exited.then(() =>
        finish(() => reject(new Error(`${this.label} exited (${JSON.stringify(this.exitInfo)}) before it was ready:\n${this.output}`))),
      );
      const timer = setTimeout(() => {
        finish(() => {
          this.killSync();
          reject(new Error(`${this.label} not ready after ${timeoutMs} ms:\n${this.output}`));
        });
      }, timeoutMs);
    });
  }

  private signalGroup(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid || this.exitInfo) return;
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        this.child?.kill(sig);
      } catch {
        // gone
      }
    }
  }

  killSync(): void {
    this.signalGroup("SIGKILL");
  }

  /** SIGKILL to the whole group; resolves when the child is gone. */
  async kill(): Promise<void> {
    this.signalGroup("SIGKILL");
    await withTimeout(this.exited, 10_000, `${this.label} SIGKILL`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.signalGroup("SIGTERM");
    try {
      await withTimeout(this.exited, graceMs, `${this.label} SIGTERM`);
    } catch {
      await this.kill();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------------------

export type ServerKind = "local" | "sftp" | "webdav" | "s3";
export const SERVER_KINDS: readonly ServerKind[] = ["local", "sftp", "webdav", "s3"];

/** The product's provider block reaching the server; spread it into a RemoteSpec next to `remoteName`. */
export type ConfigBlock =
  | { provider: "local"; local: LocalBlock }
  | { provider: "custom"; custom: CustomBlock }
  | { provider: "s3"; s3: S3Block };

export interface TestServer {
  kind: ServerKind;
  /** rclone.conf section options reaching the server (passwords obscured by `rclone obscure`). */
  rcloneSection: Record<string, string>;
  /** Product config block reaching the server (secrets in plain text: the product obscures `pass` itself). */
  configBlock: ConfigBlock;
  /** Backing directory on disk. For s3: the bucket's directory in s3rver's store (see readRoot()). */
  rootDir: string;
  /** Path after "remote:" that is rootDir: "" (sftp, webdav), the bucket (s3), absolute rootDir (local). */
  remoteRoot: string;
  /** Loopback port (0 for local). */
  port: number;
  /** rclone path of `sub` on this server through a remote named `remoteName` (default "remote"). */
  remotePath(sub?: string, remoteName?: string): string;
  /** readTree(rootDir) as the remote's clients see it (s3rver's on-disk layout decoded). */
  readRoot(): Promise<Record<string, string>>;
  /** Graceful stop (SIGTERM, then SIGKILL); data stays; restart() brings it back. */
  stop(): Promise<void>;
  /** Hard stop: SIGKILL to the server's process group, resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts again on the same port and directory (stops it first if running); resolves when usable. */
  restart(): Promise<void>;
  /** stop() and delete the server's temp dirs. */
  dispose(): Promise<void>;
  /** Server output captured so far (current process). */
  log(): string;
  running(): boolean;
}

export interface SftpServer extends TestServer {
  kind: "sftp";
  user: string;
  /** Plain password the server accepts (given to it through the environment, not argv). */
  password: string;
  /** ed25519 private key (PKCS#8 PEM) the server also accepts; usable as rclone's key_file. */
  keyFile: string;
  hostKeyFile: string;
}

export interface WebdavServer extends TestServer {
  kind: "webdav";
  url: string;
  user: string;
  password: string;
}

export interface S3Server extends TestServer {
  kind: "s3";
  bucket: string;
  endpoint: string;
  /** s3rver's store directory (holds one directory per bucket). */
  storeDir: string;
}

export interface LocalRemote extends TestServer {
  kind: "local";
}

function joinRemote(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split("/"))
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

/**
 * Stops and deletes every server and temp dir the harness made in this process: call it in afterAll.
 * (Vitest's fork workers can end without a process 'exit' event; the servers still die with the worker
 * through their stdin watchdog, but temp dirs are only removed here or by the 'exit' hook.)
 */
export async function stopAll(): Promise<void> {
  const servers = [...liveServers];
  await Promise.allSettled(servers.map((s) => s.dispose()));
  for (const proc of [...liveProcesses]) await proc.kill().catch(() => {});
  if (!process.env.TEST_KEEP_SERVER_DIRS) {
    for (const dir of [...tempDirs]) {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      tempDirs.delete(dir);
    }
  }
}

interface ProcessServerParts {
  kind: ServerKind;
  base: string;
  rootDir: string;
  remoteRoot: string;
  label: string;
  /** Starts the process on `port` (0 = any) and returns the port it listens on. */
  launch(proc: ManagedProcess, port: number): Promise<number>;
  /** Section used for the readiness probe once the port is known. */
  section(port: number): Record<string, string>;
  readRoot(): Promise<Record<string, string>>;
}

/** Waits until the port accepts TCP connections and `rclone lsd` through `section` succeeds. */
async function waitUsable(label: string, port: number, section: Record<string, string>, probePath: string, confFile: string, log: () => string): Promise<void> {
  await writeRcloneConf(confFile, { probe: section });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    if (await canConnect(port, 500)) {
      const res = await rclone(["lsd", `probe:${probePath}`, "--retries", "1", "--low-level-retries", "1", "--contimeout", "2s", "--timeout", "5s"], {
        config: confFile,
        check: false,
        timeoutMs: 10_000,
      });
      if (res.code === 0) return;
      last = res.stderr;
    } else {
      last = "port not accepting connections";
    }
    await sleep(100);
  }
  throw new Error(`${label} on port ${port} not usable through rclone after ${READY_TIMEOUT_MS} ms: ${last}\nserver log:\n${log()}`);
}

async function processServer<T extends TestServer>(
  parts: ProcessServerParts,
  extra: (port: number) => Omit<T, keyof TestServer> & Partial<TestServer>,
  configBlock: (port: number) => ConfigBlock,
): Promise<T> {
  const section = parts.section;
  const proc = new ManagedProcess(parts.label);
  const probeConf = path.join(parts.base, "private", "probe.conf");
  const probePath = parts.remoteRoot;
  let port = 0;
  const startOn = async (wanted: number) => {
    port = await parts.launch(proc, wanted);
    await waitUsable(parts.label, port, section(port), probePath, probeConf, () => proc.log());
  };
  await startOn(0);
  const server = {
    kind: parts.kind,
    rootDir: parts.rootDir,
    remoteRoot: parts.remoteRoot,
    port,
    rcloneSection: section(port),
    configBlock: configBlock(port),
    remotePath: (sub = "", remoteName = "remote") => `${remoteName}:${joinRemote(parts.remoteRoot, sub)}`,
    readRoot: () => parts.readRoot(),
    stop: () => proc.stop(),
    kill: () => proc.kill(),
    restart: async () => {
      await proc.stop();
      await startOn(port);
    },
    dispose: async () => {
      await proc.stop();
      liveServers.delete(server);
      if (!process.env.TEST_KEEP_SERVER_DIRS) await rm(parts.base, { recursive: true, force: true });
      tempDirs.delete(parts.base);
    },
    log: () => proc.log(),
    running: () => proc.running,
    ...extra(port),
  } as unknown as T;
  liveServers.add(server);
  return server;
}

function parsePort(m: RegExpExecArray, label: string): number {
  const port = Number(m[1]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${label}: cannot parse port from ${m[0]}`);
  return port;
}

/** rclone serve * through the reaper, in its own process group. */
function launchRcloneServe(proc: ManagedProcess, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<RegExpExecArray> {
  return proc.start(process.execPath, [REAPER, RCLONE_BIN, ...args], env, ready);
}

// --- local ---------------------------------------------------------------------------------------------

export async function startLocalRemote(): Promise<LocalRemote> {
  const base = await makeTempDir("local");
  const rootDir = path.join(base, "root");
  await mkdir(rootDir, { recursive: true });
  const server: LocalRemote = {
    kind: "local",
    rootDir,
    remoteRoot: rootDir,
    port: 0,
    rcloneSection: { type: "local" },
    configBlock: { provider: "local", local: { path: rootDir } },
    remotePath: (sub = "", remoteName = "remote") => `${remoteName}:/${joinRemote(rootDir, sub)}`,
    readRoot: () => readTree(rootDir),
    stop: async () => {},
    kill: async () => {},
    restart: async () => {},
    dispose: async () => {
      liveServers.delete(server);
      if (!process.env.TEST_KEEP_SERVER_DIRS) await rm(base, { recursive: true, force: true });
      tempDirs.delete(base);
    },
    log: () => "",
    running: () => true,
  };
  liveServers.add(server);
  return server;
}

// --- sftp ----------------------------------------------------------------------------------------------

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** ed25519 key pair: PKCS#8 PEM private key (accepted by rclone's key_file and --key) + OpenSSH public line. */
function ed25519KeyPair(comment: string): { privatePem: string; publicLine: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]);
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicLine: `ssh-ed25519 ${blob.toString("base64")} ${comment}\n`,
  };
}

export interface SftpOptions {
  /** What rcloneSection/configBlock use to log in (the server accepts both). Default "password". */
  auth?: "password" | "key";
  user?: string;
}

export async function startSftpServer(opts: SftpOptions = {}): Promise<SftpServer> {
  const auth = opts.auth ?? "password";
  const user = opts.user ?? "u";
  const base = await makeTempDir("sftp");
  const rootDir = path.join(base, "root");
  const priv = path.join(base, "private");
  await mkdir(rootDir, { recursive: true });
  await mkdir(priv, { recursive: true, mode: 0o700 });
  const hostKeyFile = path.join(priv, "host_ed25519");
  const keyFile = path.join(priv, "client_ed25519");
  const authorizedKeys = path.join(priv, "authorized_keys");
  const host = ed25519KeyPair("host");
  const client = ed25519KeyPair("client");
  await writeFile(hostKeyFile, host.privatePem, { mode: 0o600 });
  await writeFile(keyFile, client.privatePem, { mode: 0o600 });
  await writeFile(authorizedKeys, client.publicLine, { mode: 0o600 });
  const serverConf = path.join(priv, "server.conf");
  await writeFile(serverConf, "", { mode: 0o600 });
  // The "." keeps it from looking obscured (base64url only): the product, like rclone, keeps such a value as it is.
  const password = `pw.${randomBytes(18).toString("base64url")}`;
  const obscured = await obscureWithRclone(password);

  // Pinned so rclone does not run its detection and write these back into rclone.conf on first use.
  const fixed = { shell_type: "unix", md5sum_command: "md5sum", sha1sum_command: "sha1sum" };
  const options = (port: number, secret: "plain" | "obscured"): Record<string, string> => ({
    host: LOOPBACK,
    port: String(port),
    user,
    ...(auth === "password" ? { pass: secret === "plain" ? password : obscured } : { key_file: keyFile }),
    ...fixed,
  });

  return processServer<SftpServer>(
    {
      kind: "sftp",
      base,
      rootDir,
      remoteRoot: "",
      label: "rclone serve sftp",
      launch: async (proc, port) => {
        const args = ["serve", "sftp", rootDir, "--addr", `${LOOPBACK}:${port}`, "--user", user, "--key", hostKeyFile, "--authorized-keys", authorizedKeys, "--config", serverConf, "--cache-dir", path.join(priv, "cache")];
        // rclone reads any flag's default from RCLONE_<FLAG>: the password stays out of argv (ps).
        const m = await launchRcloneServe(proc, args, rcloneEnv({ RCLONE_PASS: password }), /SFTP server listening on \S*:(\d+)/);
        return parsePort(m, "sftp");
      },
      section: (port) => ({ type: "sftp", ...options(port, "obscured") }),
      readRoot: () => readTree(rootDir),
    },
    () => ({ kind: "sftp" as const, user, password, keyFile, hostKeyFile }),
    (port) => ({ provider: "custom", custom: { rcloneType: "sftp", rcloneOptions: options(port, "plain") } }),
  );
}

// --- webdav --------------------------------------------------------------------------------------------

export interface WebdavOptions {
  /** Basic auth on (default true). */
  auth?: boolean;
  user?: string;
}

export async function startWebdavServer(opts: WebdavOptions = {}): Promise<WebdavServer> {
  const withAuth = opts.auth ?? true;
  const user = opts.user ?? "u";
  const base = await makeTempDir("webdav");
  const rootDir = path.join(base, "root");
  const priv = path.join(base, "private");
  await mkdir(rootDir, { recursive: true });
  await mkdir(priv, { recursive: true, mode: 0o700 });
  const serverConf = path.join(priv, "server.conf");
  await writeFile(serverConf, "", { mode: 0o600 });
  const password = withAuth ? `pw.${randomBytes(18).toString("base64url")}` : "";
  const obscured = withAuth ? await obscureWithRclone(password) : "";
  const url = (port: number) => `http://${LOOPBACK}:${port}/`;
  const options = (port: number, secret: "plain" | "obscured"): Record<string, string> => ({
    url: url(port),
    vendor: "other",
    ...(withAuth ? { user, pass: secret === "plain" ? password : obscured } : {}),
  });

  return processServer<WebdavServer>(
    {
      kind: "webdav",
      base,
      rootDir,
      remoteRoot: "",
      label: "rclone serve webdav",
      launch: async (proc, port) => {
        const args = ["serve", "webdav", rootDir, "--addr", `${LOOPBACK}:${port}`, "--config", serverConf, "--cache-dir", path.join(priv, "cache")];
        if (withAuth) args.push("--user", user);
        const env = rcloneEnv(withAuth ? { RCLONE_PASS: password } : {});
        const m = await launchRcloneServe(proc, args, env, /Server started on https?:\/\/[^\s/]*:(\d+)\//);
        return parsePort(m, "webdav");
      },
      section: (port) => ({ type: "webdav", ...options(port, "obscured") }),
      readRoot: () => readTree(rootDir),
    },
    (port) => ({ kind: "webdav" as const, url: url(port), user, password }),
    (port) => ({ provider: "custom", custom: { rcloneType: "webdav", rcloneOptions: options(port, "plain") } }),
  );
}

// --- s3 (s3rver) -------------------------------------------------------------------------------------

export interface S3Options {
  /** 3-63 characters: s3rver rejects shorter names on multipart uploads (single PUTs pass). */
  bucket?: string;
}

export async function startS3Server(opts: S3Options = {}): Promise<S3Server> {
  const bucket = opts.bucket ?? "ows-test-bucket";
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`bucket name ${bucket} is not a valid S3 bucket name (3-63 chars)`);
  const base = await makeTempDir("s3");
  const storeDir = path.join(base, "store");
  const rootDir = path.join(storeDir, bucket);
  await mkdir(storeDir, { recursive: true });
  const endpoint = (port: number) => `http://${LOOPBACK}:${port}`;
  const section = (port: number): Record<string, string> => ({
    type: "s3",
    provider: "Other", // path-style addressing is the default for Other
    env_auth: "false",
    access_key_id: S3RVER_KEY,
    secret_access_key: S3RVER_SECRET,
    region: "us-east-1",
    endpoint: endpoint(port),
  });

  return processServer<S3Server>(
    {
      kind: "s3",
      base,
      rootDir,
      remoteRoot: bucket,
      label: "s3rver",
      launch: async (proc, port) => {
        const spec = JSON.stringify({ address: LOOPBACK, port, directory: storeDir, buckets: [bucket] });
        const m = await proc.start(process.execPath, [S3RVER_RUNNER, spec], process.env, /"ready":true,"port":(\d+)/);
        return parsePort(m, "s3rver");
      },
      section,
      readRoot: () => readTree(rootDir, { s3rver: true }),
    },
    (port) => ({ kind: "s3" as const, bucket, endpoint: endpoint(port), storeDir }),
    (port) => ({
      provider: "s3",
      s3: { provider: "Other", endpoint: endpoint(port), bucket, region: "us-east-1", accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
    }),
  );
}

export function startServer(kind: "local"): Promise<LocalRemote>;
export function startServer(kind: "sftp"): Promise<SftpServer>;
export function startServer(kind: "webdav"): Promise<WebdavServer>;
export function startServer(kind: "s3"): Promise<S3Server>;
export function startServer(kind: ServerKind): Promise<TestServer>;
export function startServer(kind: ServerKind): Promise<TestServer> {
  switch (kind) {
    case "local":
      return startLocalRemote();
    case "sftp":
      return startSftpServer();
    case "webdav":
      return startWebdavServer();
    case "s3":
      return startS3Server();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Trees
// ---------------------------------------------------------------------------------------------------------

export type TreeSpecEntry =
  | string
  | Uint8Array
  | { content: string | Uint8Array; mode?: number; mtime?: Date | number }
  | { symlink: string }
  | { dir: true; mode?: number };
export type TreeSpec = Record<string, TreeSpecEntry>;

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function toPosix(rel: string): string {
  return rel.split(path.sep).join("/");
}

function safeJoin(dir: string, rel: string): string {
  const full = path.resolve(dir, rel);
  if (full !== path.resolve(dir) && !full.startsWith(path.resolve(dir) + path.sep)) throw new Error(`tree path escapes its root: ${rel}`);
  return full;
}

/** Creates files (parents included) from a spec; strings are written as UTF-8. mtime: Date or epoch ms. */
export async function makeTree(dir: string, spec: TreeSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [rel, entry] of Object.entries(spec)) {
    const full = safeJoin(dir, rel);
    await mkdir(path.dirname(full), { recursive: true });
    if (typeof entry === "string" || entry instanceof Uint8Array) {
      await writeFile(full, entry);
    } else if ("symlink" in entry) {
      await rm(full, { force: true });
      await symlink(entry.symlink, full);
    } else if ("dir" in entry) {
      await mkdir(full, { recursive: true });
      if (entry.mode !== undefined) await chmod(full, entry.mode);
    } else {
      await writeFile(full, entry.content);
      if (entry.mode !== undefined) await chmod(full, entry.mode);
      if (entry.mtime !== undefined) {
        const t = entry.mtime instanceof Date ? entry.mtime : new Date(entry.mtime);
        await utimes(full, t, t);
      }
    }
  }
  return dir;
}

/** What readTree() would return for a tree made from `spec` (files and symlinks; dirs only with emptyDirs). */
export function specDigest(spec: TreeSpec, opts: { emptyDirs?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rel, entry] of Object.entries(spec)) {
    const key = toPosix(path.normalize(rel));
    if (typeof entry === "string" || entry instanceof Uint8Array) out[key] = sha256(entry);
    else if ("symlink" in entry) out[key] = `symlink:${entry.symlink}`;
    else if ("dir" in entry) {
      if (opts.emptyDirs) out[key] = "dir";
    } else out[key] = sha256(entry.content);
  }
  return out;
}

export interface TreeEntry {
  type: "file" | "symlink" | "dir";
  size?: number;
  sha256?: string;
  /** Permission bits (st_mode & 0o7777). */
  mode: number;
  mtimeMs: number;
  /** Symlink target. */
  target?: string;
}

export interface ReadTreeOptions {
  /** Include empty directories (value "dir"). */
  emptyDirs?: boolean;
  /** Decode s3rver's store layout: "<key>._S3rver_object" => key; metadata/md5 files and uploads skipped. */
  s3rver?: boolean;
  /** Skip relative paths (POSIX separators) for which this returns true. */
  ignore?: (rel: string) => boolean;
}

const S3RVER_OBJECT = "._S3rver_object";

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every entry under dir (symlinks not followed): relpath => details. Missing dir => {}. */
export async function readTreeDetailed(dir: string, opts: ReadTreeOptions = {}): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  const walk = async (abs: string, rel: string): Promise<boolean> => {
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && rel === "") return false;
      throw err;
    }
    let any = false;
    for (const ent of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      let name = ent.name;
      if (opts.s3rver) {
        if (ent.isDirectory() && name === "._S3rver_uploads") continue;
        if (!ent.isDirectory()) {
          if (!name.endsWith(S3RVER_OBJECT)) continue; // ._S3rver_metadata.json, ._S3rver_object.md5
          name = name.slice(0, -S3RVER_OBJECT.length);
        }
      }
      const childAbs = path.join(abs, ent.name);
      const childRel = rel ? `${rel}/${name}` : name;
      if (opts.ignore?.(childRel)) continue;
      const st = await lstat(childAbs);
      const common = { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
      if (st.isSymbolicLink()) {
        out[childRel] = { type: "symlink", target: await readlink(childAbs), ...common };
        any = true;
      } else if (st.isDirectory()) {
        const nonEmpty = await walk(childAbs, childRel);
        if (!nonEmpty && opts.emptyDirs) out[childRel] = { type: "dir", ...common };
        any = true;
      } else if (st.isFile()) {
        out[childRel] = { type: "file", size: st.size, sha256: await hashFile(childAbs), ...common };
        any = true;
      }
    }
    return any;
  };
  await walk(dir, "");
  return out;
}

/** relpath => sha256 of content; symlinks => "symlink:<target>"; empty dirs => "dir" with emptyDirs. */
export async function readTree(dir: string, opts: ReadTreeOptions = {}): Promise<Record<string, string>> {
  const detailed = await readTreeDetailed(dir, opts);
  const out: Record<string, string> = {};
  for (const [rel, e] of Object.entries(detailed)) out[rel] = e.type === "file" ? e.sha256! : e.type === "symlink" ? `symlink:${e.target}` : "dir";
  return out;
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` deterministic pseudo-random bytes for `seed`. */
export function randomBytesSeeded(size: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  for (; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

export interface RandomTreeOptions {
  files: number;
  maxSize: number;
  minSize?: number;
  seed: number;
  /** Maximum directory depth (default 3). */
  maxDepth?: number;
}

/** Writes a deterministic random tree (same options => same names and bytes) and returns its spec. */
export async function randomTree(dir: string, opts: RandomTreeOptions): Promise<Record<string, Buffer>> {
  const rnd = prng(opts.seed);
  const minSize = opts.minSize ?? 0;
  const maxDepth = opts.maxDepth ?? 3;
  const spec: Record<string, Buffer> = {};
  for (let i = 0; i < opts.files; i++) {
    const depth = Math.floor(rnd() * (maxDepth + 1));
    const dirs: string[] = [];
    for (let d = 0; d < depth; d++) dirs.push(`d${Math.floor(rnd() * 4)}`);
    const size = minSize + Math.floor(rnd() * (opts.maxSize - minSize + 1));
    const rel = [...dirs, `f${String(i).padStart(4, "0")}-${Math.floor(rnd() * 1e6).toString(36)}.bin`].join("/");
    spec[rel] = randomBytesSeeded(size, (opts.seed * 1_000_003 + i) >>> 0);
  }
  await makeTree(dir, spec);
  return spec;
}

/** A fresh temp dir deleted at process exit (and by stopAll's exit hook). */
export function tempDir(prefix = "tmp"): Promise<string> {
  return makeTempDir(prefix);
}
