// `workspace-sync authorize` with the real CLI and the real rclone, except for the one step that needs a person
// with a browser: `rclone authorize` itself is a fake that prints what the real one prints after a sign-in. Token
// storage, the merge into an rclone.conf holding other remotes, and the token surviving later runs are all real.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPluginConfig } from "../../src/config/index.js";
import { parseConf } from "../../src/rclone/conf-file.js";
import { resolveRemote, writeRemoteSections } from "../../src/rclone/remotes.js";
import { RCLONE_BIN } from "../helpers/servers.js";
import { runCli, testEnv } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";

const TOKEN = JSON.stringify({ access_token: "sl.FAKE-ACCESS-abc", token_type: "bearer", refresh_token: "FAKE-REFRESH-xyz", expiry: "2030-01-01T00:00:00Z" });
const APP_SECRET = "app-secret-never-in-argv";

let fakeDir: string;

/** PATH with a fake rclone first: `authorize` prints a sign-in result, everything else runs the real rclone. */
async function fakeRclone(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "wsync-fake-rclone-"));
  const script = `#!/bin/sh
if [ "$1" = "authorize" ]; then
  printf '%s\\n' "$@" > "$FAKE_DIR/argv"
  env | grep '^RCLONE_' | sort > "$FAKE_DIR/env"
  if [ -f "$FAKE_DIR/fail" ]; then
    echo '{"level":"error","msg":"Failed to get token: oauth2: cannot fetch token"}' >&2
    exit 1
  fi
  echo '{"level":"notice","msg":"If your browser doesn'"'"'t open automatically go to the following link: http://127.0.0.1:53682/auth?state=fake"}' >&2
  echo '{"level":"notice","msg":"Got code"}' >&2
  printf 'Paste the following into your remote machine --->\\n%s\\n<---End paste\\n' "$(cat "$FAKE_DIR/token")"
  exit 0
fi
exec ${RCLONE_BIN} "$@"
`;
  await writeFile(path.join(dir, "rclone"), script);
  await chmod(path.join(dir, "rclone"), 0o755);
  await writeFile(path.join(dir, "token"), TOKEN);
  return dir;
}

function env(w: World, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...w.env, PATH: `${fakeDir}:${w.env.PATH}`, FAKE_DIR: fakeDir, ...extra };
}

const confFile = (w: World) => path.join(w.stateDir, "workspace-sync", "rclone.conf");

describe("authorize", () => {
  beforeAll(async () => {
    fakeDir = await fakeRclone();
  });
  afterAll(async () => rm(fakeDir, { recursive: true, force: true }));

  it("stores the token in the remote's own section, keeps every other section, never puts the app secret in argv or output", async () => {
    const sync = {
      provider: "dropbox",
      mode: "mailbox",
      remotePath: "",
      dropbox: { appFolder: true, appKey: "my-app-key", appSecret: "${SYNC_DROPBOX_APP_SECRET}" },
    };
    const w = await makeWorld({ sync });
    try {
      await writeFile(path.join(w.stateDir, ".env"), `SYNC_DROPBOX_APP_SECRET='${APP_SECRET}'\n`);
      // Someone else's remote in the same file, with a token rclone refreshed: must stay byte for byte in meaning.
      const other = '{"access_token":"OTHER","expiry":"2031-01-01T00:00:00Z"}';
      await mkdir(path.dirname(confFile(w)), { recursive: true });
      await writeFile(confFile(w), `[mine]\ntype = drive\nscope = drive\ntoken = ${other}\n`, { mode: 0o600 });

      const res = await runCli(["authorize"], { env: env(w) });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toContain("http://127.0.0.1:53682/auth?state=fake");
      expect(res.stderr).toMatch(/Dropbox token stored in .*rclone\.conf \[cloud\]/);

      const conf = parseConf(await readFile(confFile(w), "utf8"));
      expect(conf.get("mine")).toEqual({ type: "drive", scope: "drive", token: other });
      expect(conf.get("cloud")).toEqual({ type: "dropbox", client_id: "my-app-key", client_secret: APP_SECRET, token: TOKEN });
      expect((await stat(confFile(w))).mode & 0o777).toBe(0o600);

      // The app key and secret reached rclone through its environment, not its arguments.
      const argv = (await readFile(path.join(fakeDir, "argv"), "utf8")).trim().split("\n");
      expect(argv.slice(0, 2)).toEqual(["authorize", "dropbox"]);
      expect(argv.join(" ")).not.toContain(APP_SECRET);
      expect(argv.join(" ")).not.toContain("my-app-key");
      const childEnv = await readFile(path.join(fakeDir, "env"), "utf8");
      expect(childEnv).toContain("RCLONE_DROPBOX_CLIENT_ID=my-app-key");
      expect(childEnv).toContain(`RCLONE_DROPBOX_CLIENT_SECRET=${APP_SECRET}`);
      expect(res.stdout + res.stderr).not.toContain("FAKE-ACCESS");
      expect(res.stdout + res.stderr).not.toContain(APP_SECRET);

      // Every later run rewrites the product's sections (config has no token): the stored token stays.
      const loaded = loadPluginConfig(sync, { SYNC_DROPBOX_APP_SECRET: APP_SECRET });
      const remote = resolveRemote(loaded.config.sync!.remote, "", confFile(w));
      await writeRemoteSections(remote);
      await writeRemoteSections(remote);
      expect(parseConf(await readFile(confFile(w), "utf8")).get("cloud")?.token).toBe(TOKEN);
      expect(parseConf(await readFile(confFile(w), "utf8")).get("mine")?.token).toBe(other);
    } finally {
      await w.cleanup();
    }
  });

  it("headless: a token pasted on stdin (the whole block rclone printed) before any config exists", async () => {
    const w = await makeWorld();
    try {
      const pasted = `2026/11/27 NOTICE: Got code\nPaste the following into your remote machine --->\n${TOKEN}\n<---End paste\n`;
      const res = await runCli(["authorize", "--provider", "gdrive", "--paste"], { env: env(w), input: pasted });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toContain('rclone authorize "drive"');
      expect(res.stderr).toContain("No gdrive remote is configured yet");
      expect(parseConf(await readFile(confFile(w), "utf8")).get("cloud")).toEqual({ type: "drive", scope: "drive", token: TOKEN });
      expect(res.stdout + res.stderr).not.toContain("FAKE-ACCESS");

      const junk = await runCli(["authorize", "--provider", "gdrive", "--paste"], { env: env(w), input: "not a token\n" });
      expect(junk.code).toBe(2);
      expect(junk.stderr).toContain("stdin holds no token");
    } finally {
      await w.cleanup();
    }
  });

  it("a failed sign-in exits 1 with the headless way to do it, and leaves the file alone", async () => {
    const w = await makeWorld({ sync: { provider: "onedrive", mode: "mirror", onedrive: { driveType: "personal", driveId: "b!abc" } } });
    try {
      await writeFile(path.join(fakeDir, "fail"), "");
      const res = await runCli(["authorize"], { env: env(w) });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("OneDrive sign-in failed");
      expect(res.stderr).toContain('rclone authorize "onedrive"');
      await expect(readFile(confFile(w), "utf8")).rejects.toThrow();
    } finally {
      await rm(path.join(fakeDir, "fail"), { force: true });
      await w.cleanup();
    }
  });

  it("setup over a signed-in remote: same provider keeps the token; another backend keeps it in a copy of rclone.conf", async () => {
    const w = await makeWorld({ sync: { provider: "gdrive", mode: "mirror", gdrive: {} } });
    try {
      await mkdir(path.dirname(confFile(w)), { recursive: true });
      await writeFile(confFile(w), `[cloud]\ntype = drive\nscope = drive\ntoken = ${TOKEN}\n`, { mode: 0o600 });
      const again = await runCli(["setup", "--yes", "--provider", "gdrive", "--mode", "mirror", "--no-backup", "--no-check", "--no-first-sync"], { env: env(w) });
      expect(again.code, again.stderr).toBe(0);
      expect(parseConf(await readFile(confFile(w), "utf8")).get("cloud")?.token).toBe(TOKEN);

      const local = path.join(w.root, "nas");
      const moved = await runCli(["setup", "--yes", "--provider", "local", "--local-folder", local, "--mode", "mirror", "--no-backup", "--no-first-sync"], { env: env(w) });
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.stderr).toMatch(/\[cloud\] change backend; the old token is kept in .*rclone\.conf\.\d{8}T\d{6}Z\.bak/);
      expect(parseConf(await readFile(confFile(w), "utf8")).get("cloud")).toEqual({ type: "local" });
      const copy = /kept in (\S+\.bak)/.exec(moved.stderr)![1]!;
      expect(parseConf(await readFile(copy, "utf8")).get("cloud")?.token).toBe(TOKEN);
      expect(moved.stderr).not.toContain("FAKE-ACCESS");
    } finally {
      await w.cleanup();
    }
  });

  it("refuses providers that have no sign-in", async () => {
    const w = await makeWorld();
    try {
      const res = await runCli(["authorize", "--provider", "s3"], { env: testEnv({ OPENCLAW_STATE_DIR: w.stateDir, HOME: w.root }) });
      expect(res.code).toBe(2);
    } finally {
      await w.cleanup();
    }
  });
});
