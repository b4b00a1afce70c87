// Fault case 6: a corpus of malformed and hostile plugin configs. Each one goes through the real CLI (`sync` and
// `status --json`): `sync` must exit 2 naming the key at fault, both must leave the world exactly as it was (no
// rclone.conf written or changed, no state file, nothing in the workspace or on the remote), and no secret the
// config holds may be echoed.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fingerprint } from "../support/tree.js";
import { makeWorld, type World } from "../support/world.js";
import { expectCleanError } from "./lib/sync-kit.js";

interface Case {
  name: string;
  /** The plugin config (nested or flat), or the whole openclaw.json text. */
  config?: (remote: string) => unknown;
  text?: (remote: string) => string;
  /** Text the error must contain: the key at fault (or the file). */
  key: string | ((w: World) => string);
  /** More text the message must contain (a suggestion, a variable name). */
  also?: RegExp;
  /** Values that must never appear in any output. */
  secrets?: string[];
}

const local = (remote: string) => ({ provider: "local", local: { path: remote } });
const mbx = (remote: string, extra: Record<string, unknown> = {}) => ({ sync: { ...local(remote), mode: "mailbox", ...extra } });
const custom = (options: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  sync: { provider: "custom", mode: "mirror", custom: { rcloneType: "sftp", rcloneOptions: { host: "127.0.0.1", user: "u", ...options } }, ...extra },
});
const SECRET = "s3cr3t-Value-9f8e7d";

const CASES: Case[] = [
  // Wrong types for every major key.
  { name: "provider is a number", config: () => ({ sync: { provider: 5, mode: "mailbox" } }), key: "sync.provider" },
  { name: "mode is a boolean", config: (r) => ({ sync: { ...local(r), mode: true } }), key: "sync.mode" },
  { name: "remotePath is a number", config: (r) => mbx(r, { remotePath: 42 }), key: "sync.remotePath" },
  { name: "localPath is a list", config: (r) => mbx(r, { localPath: ["a"] }), key: "sync.localPath" },
  { name: "interval is quoted", config: (r) => mbx(r, { interval: "300" }), key: "sync.interval", also: /without quotes/ },
  { name: "timeout is text", config: (r) => mbx(r, { timeout: "half an hour" }), key: "sync.timeout" },
  { name: "onSessionStart is \"yes\"", config: (r) => mbx(r, { onSessionStart: "yes" }), key: "sync.onSessionStart" },
  { name: "exclude is one string", config: (r) => mbx(r, { exclude: "*.tmp" }), key: "sync.exclude" },
  { name: "copySymlinks is 1", config: (r) => mbx(r, { copySymlinks: 1 }), key: "sync.copySymlinks" },
  { name: "maxDelete is quoted", config: (r) => mbx(r, { maxDelete: "50" }), key: "sync.maxDelete" },
  { name: "trashDays is fractional", config: (r) => mbx(r, { trashDays: 1.5 }), key: "sync.trashDays" },
  { name: "sync is a list", config: () => ({ sync: [] }), key: "sync" },
  { name: "local block is a string", config: (r) => ({ sync: { provider: "local", mode: "mirror", local: r } }), key: "sync.local" },
  { name: "s3 bucket is a number", config: () => ({ sync: { provider: "s3", mode: "mirror", s3: { bucket: 5, region: "x" } } }), key: "sync.s3.bucket" },
  { name: "a token of the wrong type is not echoed", config: () => ({ sync: { provider: "dropbox", mode: "mailbox", dropbox: { token: { value: SECRET } } } }), key: "sync.dropbox.token", secrets: [SECRET] },
  { name: "backup retain is a word", config: (r) => ({ ...mbx(r), backup: { provider: "local", local: { path: r }, retain: "seven" } }), key: "backup.retain" },
  // Unknown keys: typos are reported with a suggestion.
  { name: "typo intervall", config: (r) => mbx(r, { intervall: 300 }), key: "sync.intervall", also: /did you mean "interval"/ },
  { name: "typo remotepath", config: (r) => mbx(r, { remotepath: "x" }), key: "sync.remotepath", also: /did you mean "remotePath"/ },
  { name: "typo in a provider block", config: () => ({ sync: { provider: "dropbox", mode: "mailbox", dropbox: { tokn: "x" } } }), key: "sync.dropbox.tokn", also: /did you mean "token"/ },
  { name: "__proto__ key", text: (r) => `{"plugins":{"entries":{"openclaw-workspace-sync":{"config":{"sync":{"__proto__":{"mode":"mirror"},"provider":"local","local":{"path":${JSON.stringify(r)}}}}}}}}`, key: "sync.mode" },
  // Paths that leave the workspace or are not what they must be.
  { name: "absolute localPath", config: (r) => mbx(r, { localPath: "/etc" }), key: "sync.localPath", also: /relative/ },
  { name: "localPath escaping with ..", config: (r) => mbx(r, { localPath: "../outside" }), key: "sync.localPath" },
  { name: "localPath escaping through a folder", config: (r) => mbx(r, { localPath: "a/../../x" }), key: "sync.localPath" },
  { name: "localPath starting with ~", config: (r) => mbx(r, { localPath: "~/x" }), key: "sync.localPath" },
  { name: "localPath escaping with backslashes", config: (r) => mbx(r, { localPath: "a\\..\\..\\x" }), key: "sync.localPath" },
  { name: "ingestPath escaping", config: (r) => ({ sync: { ...local(r), mode: "mirror", ingest: true, ingestPath: "../../etc" } }), key: "sync.ingestPath" },
  { name: "remotePath with ..", config: (r) => mbx(r, { remotePath: "a/../../b" }), key: "sync.remotePath" },
  { name: "relative local.path", config: () => ({ sync: { provider: "local", mode: "mirror", local: { path: "relative/dir" } } }), key: "sync.local.path" },
  { name: "relative rclonePath", config: (r) => ({ rclonePath: "bin/rclone", ...mbx(r) }), key: "rclonePath" },
  // Newline and section injection into rclone.conf.
  { name: "newline + [section] in an rclone option", config: () => custom({ host: "127.0.0.1\n[evil]\ntype = local" }), key: "sync.custom.rcloneOptions.host" },
  { name: "rclone option named type", config: () => custom({ type: "local" }), key: "sync.custom.rcloneOptions.type" },
  { name: "rclone option name with = and a newline", config: () => custom({ "user = x\nroot": "y" }), key: "sync.custom.rcloneOptions" },
  { name: "password option with a newline is not echoed", config: () => custom({ pass: `${SECRET}\n[evil]` }), key: "sync.custom.rcloneOptions.pass", secrets: [SECRET] },
  { name: "newline in the s3 endpoint", config: () => ({ sync: { provider: "s3", mode: "mirror", s3: { bucket: "b", endpoint: "http://127.0.0.1:9\n[evil]\ntype = local" } } }), key: "sync.s3.endpoint" },
  { name: "section injection through remoteName", config: (r) => mbx(r, { remoteName: "cloud]\n[evil" }), key: "sync.remoteName" },
  { name: "remoteName that is a path", config: (r) => mbx(r, { remoteName: "../x" }), key: "sync.remoteName" },
  { name: "newline in rcloneType", config: () => ({ sync: { provider: "custom", mode: "mirror", custom: { rcloneType: "sftp\ntype = local" } } }), key: "sync.custom.rcloneType" },
  { name: "newline in an exclude pattern", config: (r) => mbx(r, { exclude: ["ok/**", "bad\nline"] }), key: "sync.exclude[1]" },
  { name: "carriage return in the crypt password is not echoed", config: (r) => mbx(r, { crypt: { password: `${SECRET}\r` } }), key: "sync.crypt.password", secrets: [SECRET] },
  // Huge, negative and non-finite numbers.
  { name: "interval 1e308", config: (r) => mbx(r, { interval: 1e308 }), key: "sync.interval" },
  { name: "maxDelete 1e9", config: (r) => mbx(r, { maxDelete: 1e9 }), key: "sync.maxDelete" },
  { name: "negative timeout", config: (r) => mbx(r, { timeout: -60 }), key: "sync.timeout" },
  { name: "negative trashDays", config: (r) => mbx(r, { trashDays: -1 }), key: "sync.trashDays" },
  { name: "fullSyncInterval 1e20", config: (r) => mbx(r, { fullSyncInterval: 1e20 }), key: "sync.fullSyncInterval" },
  { name: "interval NaN (JSON5)", text: (r) => `{plugins:{entries:{"openclaw-workspace-sync":{config:{sync:{provider:"local",local:{path:${JSON.stringify(r)}},mode:"mailbox",interval:NaN}}}}}}`, key: "sync.interval" },
  { name: "interval Infinity (JSON5)", text: (r) => `{plugins:{entries:{"openclaw-workspace-sync":{config:{sync:{provider:"local",local:{path:${JSON.stringify(r)}},mode:"mailbox",interval:Infinity}}}}}}`, key: "sync.interval" },
  { name: "backup interval below 300", config: (r) => ({ ...mbx(r), backup: { provider: "local", local: { path: r }, interval: 10 } }), key: "backup.interval" },
  // Placeholders that do not resolve.
  { name: "unset ${VAR} in a token", config: () => ({ sync: { provider: "dropbox", mode: "mailbox", dropbox: { token: "${WSYNC_FAULT_UNSET_TOKEN}" } } }), key: "sync.dropbox.token", also: /WSYNC_FAULT_UNSET_TOKEN/ },
  { name: "unset ${VAR} in the passphrase", config: (r) => ({ ...mbx(r), backup: { provider: "local", local: { path: r }, encrypt: true, passphrase: "${WSYNC_FAULT_UNSET_PASS}" } }), key: "backup.passphrase", also: /WSYNC_FAULT_UNSET_PASS/ },
  { name: "unset ${VAR} in the bucket", config: () => ({ sync: { provider: "s3", mode: "mirror", s3: { bucket: "${WSYNC_FAULT_UNSET_BUCKET}" } } }), key: "sync.s3.bucket", also: /WSYNC_FAULT_UNSET_BUCKET/ },
  { name: "lower-case ${var}", config: (r) => mbx(r, { remotePath: "${home}/x" }), key: "sync.remotePath" },
  { name: "unclosed ${ in a secret is not echoed", config: () => ({ sync: { provider: "dropbox", mode: "mailbox", dropbox: { token: `\${${SECRET}` } } }), key: "sync.dropbox.token", secrets: [SECRET] },
  // Enums.
  { name: "empty mode", config: (r) => mbx(r, { mode: "" }), key: "sync.mode" },
  { name: "mode MAILBOX", config: (r) => mbx(r, { mode: "MAILBOX" }), key: "sync.mode", also: /did you mean "mailbox"/ },
  { name: "mode missing", config: (r) => ({ sync: local(r) }), key: "sync.mode", also: /required/ },
  { name: "local.path is the root folder", config: () => mbx("/"), key: "sync.local.path", also: /root folder/ },
  { name: "local.path is a system folder", config: () => mbx("/etc"), key: "sync.local.path", also: /system folder/ },
  { name: "local.path is the home folder itself", config: () => mbx("~"), key: "sync.local.path", also: /home folder itself/ },
  { name: "backup local.path inside /usr", config: (r) => ({ ...mbx(r), backup: { provider: "local", local: { path: "/usr/share/backups" } } }), key: "backup.local.path", also: /operating system/ },
  { name: "unknown provider", config: () => ({ sync: { provider: "ftp", mode: "mailbox" } }), key: "sync.provider" },
  { name: "unknown conflictResolve", config: (r) => ({ sync: { ...local(r), mode: "bisync", conflictResolve: "theirs" } }), key: "sync.conflictResolve" },
  // The file itself.
  { name: "not JSON at all", text: () => "this is not json {", key: (w) => w.configFile, also: /JSON5/ },
  { name: "plugin config is a string", config: () => "mailbox please", key: "plugins.entries.openclaw-workspace-sync.config" },
  { name: "flat format with a typo", config: (r) => ({ ...local(r), mode: "mirror", timout: 60 }), key: "timout", also: /did you mean "timeout"/ },
];

async function world(c: Case): Promise<{ w: World; remote: string }> {
  const w = await makeWorld();
  const remote = path.join(w.root, "remote");
  await mkdir(path.join(remote, "openclaw-share"), { recursive: true });
  await writeFile(path.join(remote, "openclaw-share", "keep.txt"), "on the remote\n");
  await writeFile(path.join(w.workspace, "notes.md"), "the agent's notes\n");
  // A user's own section in the product's rclone.conf must survive untouched.
  await mkdir(path.join(w.stateDir, "workspace-sync"), { recursive: true, mode: 0o700 });
  await writeFile(path.join(w.stateDir, "workspace-sync", "rclone.conf"), "[mine]\ntype = local\n", { mode: 0o600 });
  if (c.text) await writeFile(w.configFile, c.text(remote));
  else await w.writeConfig(c.config!(remote));
  return { w, remote };
}

describe.concurrent("bad config corpus: exit 2, the key named, nothing written", () => {
  it("has at least 30 configs", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const { w } = await world(c);
    try {
      const before = await fingerprint(w.root);
      const key = typeof c.key === "string" ? c.key : c.key(w);
      const sync = await w.cli("sync");
      expect(sync.code, sync.stderr).toBe(2);
      expectCleanError(sync.stderr, c.secrets);
      expect(sync.stderr).toContain(key);
      if (c.also) expect(sync.stderr).toMatch(c.also);
      expect(sync.stdout).toBe("");

      // status reports the same problem (and exits 2: see the separate case below).
      const status = await w.cli("status", "--json");
      const report = JSON.parse(status.stdout) as { problems: { key: string; message: string }[] };
      expect(report.problems.map((p) => `${p.key}: ${p.message}`).join("\n")).toContain(key);
      for (const s of c.secrets ?? []) expect(status.stdout + status.stderr).not.toContain(s);

      // Nothing written anywhere: state dir (rclone.conf included), workspace, remote.
      expect(await fingerprint(w.root)).toEqual(before);
    } finally {
      await w.cleanup();
    }
  });

  it("a JSON5 config with comments, unquoted keys and trailing commas is accepted (control case)", async () => {
    const w = await makeWorld();
    const remote = path.join(w.root, "remote");
    try {
      await mkdir(remote, { recursive: true });
      await writeFile(path.join(w.workspace, "notes.md"), "notes\n");
      await writeFile(
        w.configFile,
        `// openclaw.json as people write it
{
  plugins: { entries: { "openclaw-workspace-sync": { config: {
    sync: {
      provider: "local", /* a NAS folder */
      local: { path: ${JSON.stringify(remote)}, },
      mode: "mirror",
      interval: 300,
    },
  } } } },
}
`,
      );
      const res = await w.cli("sync");
      expect(res.code, res.stderr).toBe(0);
      expect((await fingerprint(remote))["openclaw-share/notes.md"]).toBeDefined();
    } finally {
      await w.cleanup();
    }
  });

  it("status prints its report and exits 2 on an invalid config", async () => {
    const { w } = await world(CASES.find((c) => c.name === "typo intervall")!);
    try {
      const status = await w.cli("status");
      expect(status.code).toBe(2);
      expect(status.stdout).toMatch(/problem:\s+sync\.intervall/);
      expect(status.stderr).toMatch(/sync\.intervall/);
    } finally {
      await w.cleanup();
    }
  });
});
