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
//
// The harness in parts: processes.ts (children, temp dirs, waiting), rclone.ts (the binary and running it), this
// file (the servers) and trees.ts (files from specs, reading trees back). This file re-exports all of them, so
// `../helpers/servers.js` still gives the whole harness.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CustomBlock, LocalBlock, S3Block } from "../../src/config/types.js";
import { canConnect, forgetTempDir, LOOPBACK, makeTempDir, ManagedProcess, READY_TIMEOUT_MS, sleep, stopProcesses } from "./processes.js";
import { obscureWithRclone, RCLONE_BIN, rclone, rcloneEnv, writeRcloneConf } from "./rclone.js";
import { readTree } from "./trees.js";

export * from "./processes.js";
export * from "./rclone.js";
export * from "./trees.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REAPER = path.join(HERE, "proc-reaper.mjs");
const S3RVER_RUNNER = path.join(HERE, "s3rver-runner.mjs");

/** Credentials s3rver accepts (its built-in account). */
export const S3RVER_KEY = "S3RVER";
export const S3RVER_SECRET = "S3RVER";

const liveServers = new Set<TestServer>();

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
  await stopProcesses();
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
      forgetTempDir(parts.base);
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
      forgetTempDir(base);
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
