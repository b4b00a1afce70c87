// Fault case 8: secrets configured in every place they can be — the backup passphrase, S3 keys (sync and backup),
// a crypt password/password2, webdav/sftp passwords through custom rcloneOptions, dropbox/gdrive OAuth tokens — given
// through ${VAR} from <stateDir>/.env and from the exported environment. Every command runs (also with bad input:
// a wrong passphrase, an unreachable remote, invalid configs) while every process of the run is sampled in /proc.
// No secret may appear in stdout/stderr, in any file the product writes under the state dir (rclone.conf aside,
// which must be 0600 with passwords obscured), in any process's argv, or in the environment of any child (the
// CLI's own environment is the user's: an exported secret there is not a leak).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lstat, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, randomTree, startServer, stopAll, type SftpServer, tempDir, type WebdavServer } from "../helpers/servers.js";
import { binPath, type CliResult, startCli } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";
import { rclonesOf, sleep, treeOf } from "./lib/backup-kit.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const secret = (tag: string) => `${tag}-${randomBytes(12).toString("base64url")}`;

interface Leak {
  command: string;
  where: string;
}

/** Samples argv and environment of the CLI's process tree (and the world's orphaned rclones) while it runs. */
async function runWatched(w: World, args: string[], secrets: Record<string, string>, opts: { env?: NodeJS.ProcessEnv; exported: boolean }): Promise<{ res: CliResult; leaks: Leak[]; sampled: number }> {
  const run = startCli(args, { env: { ...w.env, ...opts.env } });
  const cli = run.child.pid!;
  let ended = false;
  void run.done.then(() => (ended = true));
  const leaks = new Map<string, Leak>();
  const seen = new Set<number>();
  const command = args.join(" ");
  const check = (pid: number, argv: Buffer, environ: Buffer) => {
    for (const [name, value] of Object.entries(secrets)) {
      const who = `${pid === cli ? "the CLI" : argv.toString().split("\0").slice(0, 2).join(" ")}`;
      if (argv.includes(value)) leaks.set(`${name} argv ${who}`, { command, where: `${name} in the argv of ${who}` });
      // The CLI's own environment is what the user exported: not ours to clean.
      if (environ.includes(value) && !(pid === cli && opts.exported)) leaks.set(`${name} env ${who}`, { command, where: `${name} in the environment of ${who}` });
    }
  };
  // What the CLI's /proc cmdline reads (support/cli.ts runs `node bin/workspace-sync.js ARGS`).
  const cliArgv = Buffer.from([process.execPath, binPath, ...args].map((a) => `${a}\0`).join(""));
  while (!ended) {
    const pids = new Set([...treeOf(cli), ...rclonesOf(w).map((p) => p.pid)]);
    for (const pid of pids) {
      const [argv, environ] = await Promise.all([readFile(`/proc/${pid}/cmdline`).catch(() => undefined), readFile(`/proc/${pid}/environ`).catch(() => undefined)]);
      if (!argv || !environ || argv.length === 0) continue;
      // A child caught between fork and exec is still a copy of the CLI (same argv, same environment): not a child yet.
      if (pid !== cli && argv.equals(cliArgv)) continue;
      seen.add(pid);
      check(pid, argv, environ);
    }
    await sleep(3);
  }
  const res = await run.done;
  for (const [name, value] of Object.entries(secrets)) {
    if (res.stdout.includes(value)) leaks.set(`${name} stdout`, { command, where: `${name} in stdout` });
    if (res.stderr.includes(value)) leaks.set(`${name} stderr`, { command, where: `${name} in stderr` });
  }
  return { res, leaks: [...leaks.values()], sampled: seen.size };
}

/** Every regular file under dir (relative paths), symlinks not followed. */
async function filesUnder(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => [])) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** Files the product wrote in the state dir: no secret inside (rclone.conf aside), 0600. */
async function scanStateDir(w: World, secrets: Record<string, string>, userFiles: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const rel of await filesUnder(w.stateDir)) {
    if (userFiles.includes(rel) || rel.startsWith("workspace/")) continue;
    const file = path.join(w.stateDir, rel);
    const body = await readFile(file);
    const mode = (await lstat(file)).mode & 0o777;
    if (rel.startsWith("workspace-sync/") && mode & 0o077) problems.push(`${rel} is mode ${mode.toString(8)}, not 0600`);
    if (rel === "workspace-sync/rclone.conf") continue;
    for (const [name, value] of Object.entries(secrets)) if (body.includes(value)) problems.push(`${name} in ${rel}`);
  }
  return problems;
}

/**
 * s3rver with an extra key pair the test chose (lib/s3rver-keyed.mjs). A free port can be taken by another server
 * of the parallel suite before this one listens (EADDRINUSE): then it starts again on another port.
 */
async function startKeyedS3(key: string, secretKey: string, buckets: string[]): Promise<{ endpoint: string; proc: ChildProcess }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKeyedS3Once(key, secretKey, buckets);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

async function startKeyedS3Once(key: string, secretKey: string, buckets: string[]): Promise<{ endpoint: string; proc: ChildProcess }> {
  const port = await freePort();
  const dir = await tempDir("s3keyed");
  const proc = spawn(process.execPath, [path.join(HERE, "lib", "s3rver-keyed.mjs"), JSON.stringify({ address: "127.0.0.1", port, directory: dir, buckets })], {
    env: { ...process.env, S3RVER_EXTRA_KEY: JSON.stringify({ key, secret: secretKey }) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ready":true')) resolve();
    });
    proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    proc.on("exit", () => reject(new Error(`keyed s3rver exited: ${out}`)));
  });
  return { endpoint: `http://127.0.0.1:${port}`, proc };
}


// status after the first sync: before it, status exits 1 ("no sync has run yet")
const FULL = [
  ["sync", "--dry-run"],
  ["sync"],
  ["status"],
  ["status", "--json"],
  ["list"],
  ["list", "--json"],
  ["backup", "now"],
  ["backup", "now", "--json"],
  ["backup", "list"],
  ["backup", "list", "--json"],
  ["backup", "status"],
  ["backup", "status", "--json"],
  ["backup", "verify"],
  ["backup", "restore", "--dry-run"],
  ["backup", "restore", "--to", "@RESTORE@"],
  ["backup", "prune", "--dry-run"],
  ["backup", "prune"],
];
const SHORT = [["sync"], ["status", "--json"], ["list"], ["backup", "now"], ["backup", "list", "--json"], ["backup", "status", "--json"], ["backup", "verify"], ["backup", "restore", "--to", "@RESTORE@"], ["backup", "prune"]];

describe("secrets never leak (logs, status, errors, files, argv, child environments)", () => {
  const S = {
    passphrase: secret("pp"),
    s3Secret: secret("s3s"),
    cryptPassword: secret("cp1"),
    cryptPassword2: secret("cp2"),
    dropboxToken: JSON.stringify({ access_token: secret("dbx"), token_type: "bearer", refresh_token: secret("dbr"), expiry: "2099-01-01T00:00:00Z" }),
    gdriveToken: JSON.stringify({ access_token: secret("gdr"), token_type: "Bearer", refresh_token: secret("gdrr"), expiry: "2099-01-01T00:00:00Z" }),
  };
  const s3Key = `AKIA${randomBytes(8).toString("hex").toUpperCase()}`;
  let s3: { endpoint: string; proc: ChildProcess };
  let webdav: WebdavServer;
  let sftp: SftpServer;
  const allLeaks: Leak[] = [];

  beforeAll(async () => {
    [s3, webdav, sftp] = await Promise.all([startKeyedS3(s3Key, S.s3Secret, ["sync-bucket", "backup-bucket"]), startServer("webdav"), startServer("sftp")]);
  });
  afterAll(async () => {
    s3?.proc.kill("SIGKILL");
    await stopAll();
  });

  const vars = () => ({
    BACKUP_PASSPHRASE: S.passphrase,
    S3_KEY_ID: s3Key,
    S3_SECRET: S.s3Secret,
    SYNC_CRYPT_PASSWORD: S.cryptPassword,
    SYNC_CRYPT_PASSWORD2: S.cryptPassword2,
    WEBDAV_PASS: webdav.password,
    SFTP_PASS: sftp.password,
    DROPBOX_TOKEN: S.dropboxToken,
    GDRIVE_TOKEN: S.gdriveToken,
  });
  const scanned = () => ({ ...S, webdavPass: webdav.password, sftpPass: sftp.password });
  const dotEnv = (v: Record<string, string>) =>
    Object.entries(v)
      .map(([k, x]) => `${k}='${x}'`)
      .join("\n") + "\n";

  /** Runs commands in a world; returns what leaked. `@RESTORE@` becomes a fresh folder outside the state dir. */
  async function runAll(w: World, commands: string[][], exported: Record<string, string> | undefined, env: NodeJS.ProcessEnv = {}, expectOk = true): Promise<{ leaks: Leak[]; results: CliResult[] }> {
    const leaks: Leak[] = [];
    const results: CliResult[] = [];
    let n = 0;
    let sampledChildren = 0;
    for (const cmd of commands) {
      const args = cmd.map((a) => (a === "@RESTORE@" ? path.join(w.root, `restored-${n++}`) : a));
      const r = await runWatched(w, args, scanned(), { exported: !!exported, env: { ...exported, ...env } });
      if (expectOk) expect(r.res.code, `${args.join(" ")}\n${r.res.stdout}\n${r.res.stderr}`).toBe(0);
      sampledChildren += r.sampled - 1;
      leaks.push(...r.leaks);
      results.push(r.res);
    }
    expect(sampledChildren, "the sampler saw the commands' child processes").toBeGreaterThan(0);
    allLeaks.push(...leaks);
    return { leaks, results };
  }

  async function s3World(exported: boolean): Promise<World> {
    const s3Block = (bucket: string) => ({ provider: "s3", s3: { provider: "Other", endpoint: s3.endpoint, bucket, region: "us-east-1", accessKeyId: "${S3_KEY_ID}", secretAccessKey: "${S3_SECRET}" } });
    const w = await makeWorld({
      sync: { ...s3Block("sync-bucket"), mode: "mirror", remotePath: `ws-${randomBytes(3).toString("hex")}`, crypt: { password: "${SYNC_CRYPT_PASSWORD}", password2: "${SYNC_CRYPT_PASSWORD2}" } },
      backup: { ...s3Block("backup-bucket"), prefix: `bk-${randomBytes(3).toString("hex")}`, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace", "config"], retain: 1 },
    });
    if (!exported) await writeFile(path.join(w.stateDir, ".env"), dotEnv(vars()), { mode: 0o600 });
    await randomTree(w.workspace, { files: 10, maxSize: 50_000, seed: 8 });
    return w;
  }

  it("S3 keys, crypt passwords and the passphrase from <stateDir>/.env: every command", { timeout: 180_000 }, async () => {
    const w = await s3World(false);
    try {
      const { leaks } = await runAll(w, FULL, undefined);
      expect(leaks, JSON.stringify(leaks)).toEqual([]);
      expect(await scanStateDir(w, scanned(), [".env", "openclaw.json"])).toEqual([]);
      const conf = path.join(w.stateDir, "workspace-sync", "rclone.conf");
      expect((await lstat(conf)).mode & 0o777).toBe(0o600);
      const text = await readFile(conf, "utf8");
      for (const p of [S.cryptPassword, S.cryptPassword2]) expect(text.includes(p), "crypt passwords are obscured in rclone.conf").toBe(false);
    } finally {
      await w.cleanup();
    }
  });

  it("the same secrets exported in the CLI's environment: no child inherits them", { timeout: 180_000 }, async () => {
    const w = await s3World(true);
    try {
      const { BACKUP_PASSPHRASE, S3_KEY_ID, S3_SECRET, SYNC_CRYPT_PASSWORD, SYNC_CRYPT_PASSWORD2 } = vars();
      const { leaks } = await runAll(w, SHORT, { BACKUP_PASSPHRASE, S3_KEY_ID, S3_SECRET, SYNC_CRYPT_PASSWORD, SYNC_CRYPT_PASSWORD2 });
      expect(leaks, JSON.stringify(leaks)).toEqual([]);
      expect(await scanStateDir(w, scanned(), ["openclaw.json"])).toEqual([]);
    } finally {
      await w.cleanup();
    }
  });

  it("webdav and sftp passwords through custom rcloneOptions (passphrase exported): obscured, never in argv or a child", { timeout: 180_000 }, async () => {
    const opts = (block: unknown, pass: string) => {
      const b = block as { provider: string; custom: { rcloneType: string; rcloneOptions: Record<string, string> } };
      return { provider: "custom", custom: { rcloneType: b.custom.rcloneType, rcloneOptions: { ...b.custom.rcloneOptions, pass } } };
    };
    const w = await makeWorld({
      sync: { ...opts(webdav.configBlock, "${WEBDAV_PASS}"), mode: "mailbox", remotePath: `mb-${randomBytes(3).toString("hex")}` },
      backup: { ...opts(sftp.configBlock, "${SFTP_PASS}"), prefix: `bk-${randomBytes(3).toString("hex")}`, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"] },
    });
    try {
      await writeFile(path.join(w.stateDir, ".env"), dotEnv({ WEBDAV_PASS: webdav.password, SFTP_PASS: sftp.password }), { mode: 0o600 });
      await randomTree(w.workspace, { files: 6, maxSize: 30_000, seed: 4 });
      const { leaks } = await runAll(w, SHORT, { BACKUP_PASSPHRASE: S.passphrase });
      expect(leaks, JSON.stringify(leaks)).toEqual([]);
      expect(await scanStateDir(w, scanned(), [".env", "openclaw.json"])).toEqual([]);
      const text = await readFile(path.join(w.stateDir, "workspace-sync", "rclone.conf"), "utf8");
      expect(text.includes(webdav.password) || text.includes(sftp.password), "passwords are obscured in rclone.conf").toBe(false);
    } finally {
      await w.cleanup();
    }
  });

  it("OAuth tokens for providers never contacted, and bad input: failures name the problem, never the secret", { timeout: 180_000 }, async () => {
    // Any HTTPS request goes to a closed loopback port: the test never reaches the internet, and fails fast.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const offline = { HTTPS_PROXY: closed, HTTP_PROXY: closed, RCLONE_LOW_LEVEL_RETRIES: "1", RCLONE_RETRIES: "1", RCLONE_CONTIMEOUT: "2s" };
    const w = await makeWorld({
      sync: { provider: "dropbox", dropbox: { token: "${DROPBOX_TOKEN}" }, mode: "mailbox", remotePath: "x" },
      backup: { provider: "gdrive", gdrive: { token: "${GDRIVE_TOKEN}" }, prefix: "bk", encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"] },
    });
    try {
      await writeFile(path.join(w.stateDir, ".env"), dotEnv(vars()), { mode: 0o600 });
      const failing = [["status"], ["status", "--json"], ["sync"], ["list"], ["backup", "now"], ["backup", "list"], ["backup", "verify"], ["backup", "restore", "--to", "@RESTORE@"], ["backup", "prune"]];
      const { leaks, results } = await runAll(w, failing, undefined, offline, false);
      expect(leaks, JSON.stringify(leaks)).toEqual([]);
      // Everything that needs the remote failed with exit 1 and a message (status reports instead of failing).
      results.slice(2).forEach((r, i) => {
        expect(r.code, `${failing[i + 2]!.join(" ")}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(/workspace-sync: /);
      });
      expect(await scanStateDir(w, scanned(), [".env", "openclaw.json"])).toEqual([]);

      // Bad input in every secret-bearing place: the validator names the key, never the value.
      const bad: [string, unknown][] = [
        ["a newline in an rclone option", { sync: { provider: "custom", custom: { rcloneType: "webdav", rcloneOptions: { url: "http://127.0.0.1:1/", pass: `${S.cryptPassword}\n[evil]` } }, mode: "mailbox" } }],
        ["a number as crypt password2", { sync: { provider: "local", local: { path: w.root }, mode: "mirror", crypt: { password: S.cryptPassword, password2: 12345 } } }],
        ["a passphrase on a plaintext backup of secrets", { backup: { provider: "local", local: { path: w.root }, encrypt: "yes", passphrase: S.passphrase, include: ["credentials"] } }],
        ["an unknown key beside a token", { sync: { provider: "dropbox", dropbox: { token: S.dropboxToken, tokn: S.gdriveToken }, mode: "mailbox" } }],
      ];
      for (const [what, cfg] of bad) {
        await w.writeConfig(cfg);
        const r = await runWatched(w, ["status", "--json"], scanned(), { exported: false });
        expect(r.leaks, what).toEqual([]);
        const s = await runWatched(w, ["sync"], scanned(), { exported: false });
        expect(s.res.code, `${what}: ${s.res.stderr}`).toBe(2);
        expect(s.leaks, what).toEqual([]);
      }
    } finally {
      await w.cleanup();
    }
  });

  it("a wrong passphrase and an unreachable backup remote: clear errors with neither passphrase", { timeout: 120_000 }, async () => {
    const local = await startServer("local");
    const w = await makeWorld({ backup: { ...(local.configBlock as object), prefix: "bk", encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"] } });
    try {
      await randomTree(w.workspace, { files: 4, maxSize: 20_000, seed: 2 });
      await writeFile(path.join(w.stateDir, ".env"), dotEnv({ BACKUP_PASSPHRASE: S.passphrase }), { mode: 0o600 });
      expect((await runWatched(w, ["backup", "now"], scanned(), { exported: false })).res.code).toBe(0);
      const wrong = secret("wrong");
      await writeFile(path.join(w.stateDir, ".env"), dotEnv({ BACKUP_PASSPHRASE: wrong }), { mode: 0o600 });
      const secrets = { ...scanned(), wrong };
      for (const args of [["backup", "verify"], ["backup", "restore", "--to", path.join(w.root, "r1")]]) {
        const r = await runWatched(w, args, secrets, { exported: false });
        expect(r.res.code, r.res.stderr).toBe(1);
        expect(r.res.stderr).toMatch(/wrong passphrase/);
        expect(r.leaks).toEqual([]);
      }
      // An sftp repository nobody listens on (its password in the config): every backup command fails clearly.
      await writeFile(path.join(w.stateDir, ".env"), dotEnv({ BACKUP_PASSPHRASE: S.passphrase }), { mode: 0o600 });
      await w.writeConfig({
        backup: { provider: "custom", custom: { rcloneType: "sftp", rcloneOptions: { host: "127.0.0.1", port: String(await freePort()), user: "u", pass: sftp.password } }, prefix: "bk", encrypt: true, passphrase: "${BACKUP_PASSPHRASE}" },
      });
      for (const args of [["backup", "now"], ["backup", "list"], ["backup", "verify"]]) {
        const r = await runWatched(w, args, secrets, { exported: false, env: { RCLONE_LOW_LEVEL_RETRIES: "1", RCLONE_RETRIES: "1", RCLONE_CONTIMEOUT: "2s" } });
        expect(r.res.code, r.res.stderr).toBe(1);
        expect(r.res.stderr).toMatch(/workspace-sync: /);
        expect(r.leaks, args.join(" ")).toEqual([]);
      }
      expect(await scanStateDir(w, secrets, [".env", "openclaw.json"])).toEqual([]);
    } finally {
      await w.cleanup();
      await local.dispose();
    }
  });

  afterAll(() => {
    if (process.env.FAULTS_DEBUG && allLeaks.length) console.log(allLeaks);
  });
});
