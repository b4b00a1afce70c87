// The setup wizard as a person uses it: the real built CLI in a real terminal (tmux), answers typed and chosen with
// the keyboard, through the local-folder path and the S3 path (s3rver on loopback), each ending with a real first
// sync and a real first backup whose results are checked on the remote. The flags form (`setup --yes …`) must
// produce exactly the config the interactive run wrote, and bad answers are refused with the reason the config
// loader gives (at the prompt, and with exit code 2 as flags).
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPluginConfig } from "../../src/config/index.js";
import { type S3Server, startS3Server, stopAll } from "../helpers/servers.js";
import { binPath, runCli, testEnv } from "../support/cli.js";
import { TmuxSession, tmuxAvailable } from "../support/tmux.js";
import { writeTree } from "../support/tree.js";
import { STAGING_FOLDER } from "../../src/backup/formats/repository/backend.js";

const PLUGIN = "openclaw-workspace-sync";
const PASSPHRASE = "correct horse battery staple 42";

interface Place {
  root: string;
  stateDir: string;
  workspace: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
}

async function place(name: string): Promise<Place> {
  const root = await mkdtemp(path.join(os.tmpdir(), `wsync-setup-${name}-`));
  const stateDir = path.join(root, "state");
  const workspace = path.join(root, "workspace");
  await mkdir(stateDir, { recursive: true });
  await writeTree(workspace, { "notes.md": "# notes\n", "memory/today.md": "remember this\n", "docs/report.txt": "quarterly\n" });
  return { root, stateDir, workspace, configFile: path.join(stateDir, "openclaw.json"), env: testEnv({ HOME: root, TERM: "xterm-256color", LANG: "C.UTF-8" }) };
}

const globals = (p: Place) => ["--state-dir", p.stateDir, "--workspace", p.workspace];

async function pluginConfig(p: Place): Promise<unknown> {
  const doc = JSON.parse(await readFile(p.configFile, "utf8"));
  return doc.plugins.entries[PLUGIN].config;
}

/** The message the config loader gives for one sync key, to compare with what the prompt showed. */
function loaderMessage(sync: Record<string, unknown>, key: string): string {
  const base = { provider: "local", mode: "mailbox", local: { path: "/tmp/x" } };
  const problem = loadPluginConfig({ sync: { ...base, ...sync } }, {}).problems.find((p) => p.key === `sync.${key}`);
  if (!problem) throw new Error(`no loader problem for sync.${key}`);
  return problem.message;
}

function startWizard(p: Place): TmuxSession {
  return TmuxSession.start({ argv: [process.execPath, binPath, ...globals(p), "setup"], env: p.env, dir: p.root });
}

describe.skipIf(!tmuxAvailable())("setup wizard in a terminal", () => {
  let s3: S3Server;
  const cleanup: string[] = [];
  const sessions: TmuxSession[] = [];

  beforeAll(async () => {
    s3 = await startS3Server({ bucket: "wizard-bucket" });
  });
  afterAll(async () => {
    for (const s of sessions) s.kill();
    await stopAll();
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  });

  it("local folder: refuses bad answers with the loader's reason, writes the config, runs the first sync and backup; the flags form writes the same config", async () => {
    const p = await place("local");
    cleanup.push(p.root);
    const remote = path.join(p.root, "nas");
    // An existing openclaw.json with other settings: they must survive, and a copy of the old file must stay.
    await writeTree(p.stateDir, { "openclaw.json": '// my gateway\n{ gateway: { port: 18789 }, agents: { defaults: { model: "x" } }, }\n' });

    const t = startWizard(p);
    sessions.push(t);
    await t.waitFor(/rclone 1\.\d+/);
    await t.choose("Where should the workspace sync to?", "Local folder");
    await t.answer("Folder to sync into", remote);
    await t.choose("Sync mode", "mailbox");
    await t.answer("Folder on the remote", "share");
    const badPath = await t.refused("Workspace sub-folder to sync", "/etc", "must be relative to the workspace");
    expect(badPath).toContain(loaderMessage({ localPath: "/etc" }, "localPath"));
    t.keys("Enter");
    await t.waitAnswered("Workspace sub-folder to sync");
    const badInterval = await t.refused("Sync in the background every how many seconds?", "30", "must be 0 (sync only when asked)");
    expect(badInterval).toContain(loaderMessage({ interval: 30 }, "interval"));
    t.type("300");
    t.keys("Enter");
    await t.waitAnswered("Sync in the background every how many seconds?");
    await t.confirm("Also sync when an agent session starts?", false);
    await t.confirm("Also sync when an agent session ends?", true);
    await t.confirm("Encrypt the synced copy end to end", false);
    await t.confirm("Set up scheduled, encrypted backups", true);
    await t.choose("Where should the backups go?", "Same place as the sync");
    await t.answer("Folder for the snapshots", "");
    await t.choose("How should the snapshots be encrypted?", "Passphrase");
    // Where the passphrase is kept and what is lost without it is said first; a weak one is refused with the reason.
    const told = await t.waitPrompt("How should the backup passphrase be made?");
    expect(told).toContain(`kept in ${path.join(p.stateDir, ".env")}`);
    expect(told).toContain("Without it every encrypted snapshot is unreadable");
    await t.choose("How should the backup passphrase be made?", "Type my own");
    const refusal = await t.refused("Backup passphrase", "password123456", "too easy to guess");
    expect(refusal).not.toContain("password123456");
    await t.answer("Backup passphrase", PASSPHRASE);
    await t.answer("Type it again", PASSPHRASE);
    await t.answer("Snapshots to keep", "");
    await t.answer("Back up every how many seconds?", "");
    await t.waitFor("the sync remote answers");
    await t.confirm("Write this configuration?", true);
    const preview = await t.waitFor("Run the first sync now?");
    expect(preview).toMatch(/would copy 3 file\(s\)/);
    expect(preview).not.toContain(PASSPHRASE);
    await t.confirm("Run the first sync now?", true);
    await t.confirm("Take the first backup now?", true);
    const end = await t.exited();
    expect(end.code, end.screen).toBe(0);
    expect(end.screen).toMatch(/snapshot [0-9a-f]{8,64} committed/); // a passphrase setup writes the restic repository
    expect(end.screen).not.toContain(PASSPHRASE);

    // What was written: config with a placeholder, the secret in .env (0600), the rest of openclaw.json kept, a copy.
    const written = await pluginConfig(p);
    expect(written).toEqual({
      sync: { provider: "local", mode: "mailbox", remotePath: "share", interval: 300, onSessionStart: false, onSessionEnd: true, local: { path: remote } },
      backup: { enabled: true, prefix: "openclaw-backups", interval: 86400, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", retain: 7, format: "repository" },
    });
    const doc = JSON.parse(await readFile(p.configFile, "utf8"));
    expect(doc.gateway).toEqual({ port: 18789 });
    expect(doc.agents).toEqual({ defaults: { model: "x" } });
    const copies = (await readdir(p.stateDir)).filter((f) => /^openclaw\.json\.\d{8}T\d{6}Z.*\.bak$/.test(f));
    expect(copies).toHaveLength(1);
    expect(await readFile(path.join(p.stateDir, copies[0]!), "utf8")).toContain("// my gateway");
    const envFile = path.join(p.stateDir, ".env");
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(envFile, "utf8")).toContain(PASSPHRASE);

    // The remote: the workspace pushed into share/, the outbox created, one complete snapshot beside it.
    expect((await readdir(path.join(remote, "share"))).sort()).toEqual(["_outbox", "docs", "memory", "notes.md"]);
    expect(await readFile(path.join(remote, "share", "docs", "report.txt"), "utf8")).toBe("quarterly\n");
    const snaps = await readdir(path.join(remote, "openclaw-backups"));
    // (rclone < 1.63 also leaves the empty folder its staged uploads were moved from: backend.ts)
    expect(snaps.filter((n) => n !== STAGING_FOLDER).sort()).toEqual(["config", "data", "index", "keys", "locks", "snapshots"]);
    expect(await readdir(path.join(remote, "openclaw-backups", "snapshots"))).toHaveLength(1);
    const verify = await runCli([...globals(p), "backup", "verify"], { env: p.env });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok /m);

    // The same answers as flags (the passphrase from the environment) write exactly the same config and .env.
    const q = await place("flags");
    cleanup.push(q.root);
    const flags = [
      "--yes",
      "--provider", "local",
      "--local-folder", remote,
      "--mode", "mailbox",
      "--remote-path", "share",
      "--no-session-start",
      "--session-end",
      "--backup",
      "--backup-provider", "same",
      "--backup-encrypt", "passphrase",
      "--no-first-sync",
      "--no-first-backup",
    ];
    const scripted = await runCli([...globals(q), "setup", ...flags, "--interval", "300"], { env: { ...q.env, BACKUP_PASSPHRASE: PASSPHRASE } });
    expect(scripted.code, scripted.stderr).toBe(0);
    expect(await pluginConfig(q)).toEqual(written);
    expect(await readFile(path.join(q.stateDir, ".env"), "utf8")).toBe(await readFile(envFile, "utf8"));
    expect(scripted.stdout + scripted.stderr).not.toContain(PASSPHRASE);

    // Bad answers as flags: exit 2 with the same reason, nothing written.
    const r = await place("bad");
    cleanup.push(r.root);
    const absolute = await runCli([...globals(r), "setup", ...flags, "--local-path", "/etc"], { env: { ...r.env, BACKUP_PASSPHRASE: PASSPHRASE } });
    expect(absolute.code).toBe(2);
    expect(absolute.stderr).toContain(`--local-path "/etc": ${loaderMessage({ localPath: "/etc" }, "localPath")}`);
    const short = await runCli([...globals(r), "setup", ...flags, "--interval", "30"], { env: { ...r.env, BACKUP_PASSPHRASE: PASSPHRASE } });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain(`--interval "30": ${loaderMessage({ interval: 30 }, "interval")}`);
    const weak = await runCli([...globals(r), "setup", ...flags], { env: { ...r.env, BACKUP_PASSPHRASE: "password123456" } });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/the value of BACKUP_PASSPHRASE is too easy to guess: about \d+ bits/);
    expect(weak.stderr).not.toContain("password123456");
    const noMode = await runCli([...globals(r), "setup", "--yes", "--provider", "local", "--local-folder", remote], { env: r.env });
    expect(noMode.code).toBe(2);
    expect(noMode.stderr).toContain("--mode is required with --yes");
    await expect(stat(r.configFile)).rejects.toThrow();
  });

  it("S3 (loopback server): keys typed hidden, age recipients, then a real first sync and backup in the bucket", async () => {
    const p = await place("s3");
    cleanup.push(p.root);
    const keyFile = path.join(p.root, "backup-key.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
    const recipient = /public key: (age1[0-9a-z]+)/.exec(await readFile(keyFile, "utf8"))![1]!;

    const t = startWizard(p);
    sessions.push(t);
    await t.waitFor(/rclone 1\.\d+/);
    await t.choose("Where should the workspace sync to?", "S3-compatible storage");
    await t.choose("Which S3 service?", "Other S3-compatible");
    await t.answer("Region", "");
    await t.answer("Endpoint URL", s3.endpoint);
    await t.answer("Bucket", s3.bucket);
    await t.answer("Access key id", "S3RVER");
    await t.answer("Secret access key", "S3RVER");
    await t.choose("Sync mode", "mirror");
    await t.answer("Folder on the remote", "share");
    await t.answer("Workspace sub-folder to sync", "");
    await t.answer("Sync in the background every how many seconds?", "600");
    await t.confirm("Also sync when an agent session starts?", true);
    await t.confirm("Also sync when an agent session ends?", false);
    await t.confirm("Encrypt the synced copy end to end", false);
    await t.confirm("Set up scheduled, encrypted backups", true);
    await t.choose("Where should the backups go?", "Same place as the sync");
    await t.answer("Folder for the snapshots", "snapshots");
    await t.choose("How should the snapshots be encrypted?", "age public keys");
    await t.answer("age public keys", recipient);
    await t.answer("Snapshots to keep", "daily=7,weekly=4");
    await t.answer("Back up every how many seconds?", "");
    await t.waitFor("the sync remote answers");
    await t.confirm("Write this configuration?", true);
    await t.waitFor("Run the first sync now?");
    await t.confirm("Run the first sync now?", true);
    await t.confirm("Take the first backup now?", true);
    const end = await t.exited();
    expect(end.code, end.screen).toBe(0);
    expect(end.screen).not.toMatch(/S3RVER/);

    expect(await pluginConfig(p)).toEqual({
      sync: {
        provider: "s3",
        mode: "mirror",
        remotePath: "share",
        interval: 600,
        onSessionStart: true,
        onSessionEnd: false,
        s3: {
          provider: "Other",
          endpoint: s3.endpoint,
          region: "us-east-1",
          bucket: s3.bucket,
          accessKeyId: "${SYNC_S3_ACCESS_KEY_ID}",
          secretAccessKey: "${SYNC_S3_SECRET_ACCESS_KEY}",
        },
      },
      backup: { enabled: true, prefix: "snapshots", interval: 86400, encrypt: true, recipients: [recipient], retain: { daily: 7, weekly: 4 } },
    });

    // In the bucket: the workspace under share/ and one snapshot (data + manifest) under snapshots/.
    const objects = Object.keys(await s3.readRoot()).sort();
    expect(objects.filter((k) => k.startsWith("share/"))).toEqual(["share/docs/report.txt", "share/memory/today.md", "share/notes.md"]);
    const snaps = objects.filter((k) => k.startsWith("snapshots/"));
    expect(snaps.filter((k) => k.endsWith(".tar.zst.age"))).toHaveLength(1);
    expect(snaps.filter((k) => k.endsWith(".manifest.json"))).toHaveLength(1);
    const verify = await runCli([...globals(p), "backup", "verify", "--identity", keyFile], { env: p.env });
    expect(verify.code, verify.stderr).toBe(0);
    // status reaches the S3 remote (S3 has no `about`: a listing is the check).
    const status = await runCli([...globals(p), "status", "--json"], { env: p.env });
    expect(JSON.parse(status.stdout).sync.reachable).toBe(true);
  });
});
