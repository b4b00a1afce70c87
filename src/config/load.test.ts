// Sync settings: formats, defaults, every rule with the key it names.
import { describe, expect, it } from "vitest";
import { type LoadResult, loadPluginConfig } from "./load.js";
import { DEFAULT_EXCLUDES, type SyncConfig } from "./types.js";

const HOME = "/home/tester";
const load = (raw: unknown, env: Record<string, string> = {}) => loadPluginConfig(raw, { HOME, ...env });
const keys = (r: LoadResult) => r.problems.map((p) => p.key);
const message = (r: LoadResult, key: string) => {
  const found = r.problems.filter((p) => p.key === key);
  expect(found, `a problem at ${key} in ${JSON.stringify(r.problems)}`).toHaveLength(1);
  return found[0]!.message;
};
const LOCAL = { provider: "local", mode: "mailbox", local: { path: "/mnt/nas" } };
/** Loads a nested sync block on top of a valid local one. */
const syncWith = (extra: Record<string, unknown>) => load({ sync: { ...LOCAL, ...extra } });

describe("not configured", () => {
  it("no config, an empty config, or provider off: no sync, no problems", () => {
    for (const raw of [undefined, null, {}, { sync: {} }, { sync: { provider: "off", mode: "mailbox" } }, { provider: "off" }]) {
      const r = load(raw);
      expect(r.problems, JSON.stringify(raw)).toEqual([]);
      expect(r.config.sync).toBeUndefined();
    }
  });

  it("a config that is not an object is a problem at the plugin config key", () => {
    const r = load("dropbox");
    expect(keys(r)).toEqual(["plugins.entries.openclaw-workspace-sync.config"]);
  });

  it("sync settings without a provider are a problem (sync would silently stay off)", () => {
    const r = load({ sync: { mode: "mailbox", interval: 300 } });
    expect(message(r, "sync.provider")).toMatch(/not set.*mode, interval/);
  });
});

describe("defaults", () => {
  it("fills every sync default", () => {
    const r = load({ sync: LOCAL });
    expect(r.problems).toEqual([]);
    expect(r.config.sync).toEqual<SyncConfig>({
      remote: { provider: "local", remoteName: "cloud", local: { path: "/mnt/nas" } },
      mode: "mailbox",
      remotePath: "openclaw-share",
      localPath: "",
      interval: 0,
      timeout: 1800,
      onSessionStart: false,
      onSessionEnd: false,
      conflictResolve: "newer",
      exclude: DEFAULT_EXCLUDES,
      excludeSecrets: true,
      copySymlinks: false,
      ingest: false,
      ingestPath: "inbox",
      notifyOnInbox: false,
      maxDelete: 50,
      trashDays: 7,
      fullSyncInterval: 86_400,
    });
    expect(r.config.backup).toBeUndefined();
    expect(r.config.rclonePath).toBeUndefined();
  });

  it("keeps every value given", () => {
    const given = {
      ...LOCAL,
      mode: "bisync",
      remotePath: "",
      localPath: "shared",
      interval: 60,
      timeout: 60,
      onSessionStart: true,
      onSessionEnd: true,
      remoteName: "nas_1.x-y",
      conflictResolve: "remote",
      exclude: ["*.log"],
      excludeSecrets: false,
      copySymlinks: true,
      ingest: true,
      ingestPath: "drop/here",
      notifyOnInbox: true,
      maxDelete: 12.5,
      trashDays: 0,
      fullSyncInterval: 3600,
    };
    const r = load({ sync: given, rclonePath: "/usr/bin/rclone" });
    expect(r.problems).toEqual([]);
    const { provider: _p, local: _l, remoteName: _r, ...rest } = given;
    expect(r.config.sync).toEqual({ ...rest, remote: { provider: "local", remoteName: "nas_1.x-y", local: { path: "/mnt/nas" } } });
    expect(r.config.rclonePath).toBe("/usr/bin/rclone");
  });

  it("a user exclude list replaces the defaults; an empty list excludes nothing", () => {
    expect(syncWith({ exclude: ["*.tmp"] }).config.sync!.exclude).toEqual(["*.tmp"]);
    expect(syncWith({ exclude: [] }).config.sync!.exclude).toEqual([]);
  });
});

describe("nested and flat formats", () => {
  const body = {
    provider: "s3",
    mode: "mirror",
    remotePath: "share",
    interval: 120,
    exclude: ["*.log"],
    s3: { bucket: "b", region: "auto", endpoint: "https://x.r2.cloudflarestorage.com", accessKeyId: "id", secretAccessKey: "sec" },
    crypt: { password: "pw", password2: "salt" },
  };
  const backup = { enabled: true, encrypt: true, passphrase: "p", prefix: "host/" };

  it("read to the same config", () => {
    const nested = load({ sync: body, backup, rclonePath: "~/bin/rclone" });
    const flat = load({ ...body, backup, rclonePath: "~/bin/rclone" });
    expect(nested.problems).toEqual([]);
    expect(flat.problems).toEqual([]);
    expect(flat.config).toEqual(nested.config);
    expect(nested.config.sync!.remote.crypt).toEqual({ password: "pw", password2: "salt" });
    expect(nested.config.rclonePath).toBe(`${HOME}/bin/rclone`);
  });

  it("name problems the way the user wrote them", () => {
    expect(keys(load({ sync: { ...body, interval: 5 } }))).toEqual(["sync.interval"]);
    expect(keys(load({ ...body, interval: 5 }))).toEqual(["interval"]);
    expect(keys(load({ ...body, s3: { ...body.s3, regoin: "x" } }))).toEqual(["s3.regoin"]);
  });

  it("a sync key beside a sync block is reported, not silently ignored", () => {
    const r = load({ sync: body, interval: 300 });
    expect(message(r, "interval")).toMatch(/move it inside "sync"/);
  });
});

describe("provider and remote", () => {
  it("rejects an unknown provider with the allowed values and a suggestion, and still reports a missing mode", () => {
    const r = load({ sync: { provider: "dropbx" } });
    expect(message(r, "sync.provider")).toMatch(/"dropbox", "gdrive".*did you mean "dropbox"/);
    expect(message(r, "sync.mode")).toMatch(/required.*mailbox.*mirror.*bisync/);
  });

  it("needs the local block with an absolute path", () => {
    expect(message(load({ sync: { provider: "local", mode: "mailbox" } }), "sync.local")).toMatch(/required.*"path"/);
    expect(message(load({ sync: { ...LOCAL, local: {} } }), "sync.local.path")).toMatch(/required/);
    expect(message(load({ sync: { ...LOCAL, local: { path: "nas" } } }), "sync.local.path")).toMatch(/absolute/);
    expect(load({ sync: { ...LOCAL, local: { path: "~/nas" } } }).config.sync!.remote.local).toEqual({ path: `${HOME}/nas` });
  });

  it("needs custom.rcloneType and valid rclone options", () => {
    expect(message(load({ sync: { provider: "custom", mode: "mailbox" } }), "sync.custom")).toMatch(/rcloneType/);
    const r = load({
      sync: {
        provider: "custom",
        mode: "mailbox",
        custom: { rcloneOptions: { host: "h", "bad-key": "x", type: "sftp", port: 22, user: "u\nx", ok: true, nested: {}, huge: Infinity } },
      },
    });
    expect(keys(r).sort()).toEqual(
      [
        "sync.custom.rcloneType",
        "sync.custom.rcloneOptions.bad-key",
        "sync.custom.rcloneOptions.type",
        "sync.custom.rcloneOptions.user",
        "sync.custom.rcloneOptions.nested",
        "sync.custom.rcloneOptions.huge",
      ].sort(),
    );
    const ok = load({ sync: { provider: "custom", mode: "mirror", custom: { rcloneType: "sftp", rcloneOptions: { host: "h", port: 22, pass: " spaced " } } } });
    expect(ok.problems).toEqual([]);
    expect(ok.config.sync!.remote.custom).toEqual({ rcloneType: "sftp", rcloneOptions: { host: "h", port: 22, pass: " spaced " } });
    expect(load({ sync: { provider: "custom", mode: "mirror", custom: { rcloneType: "sftp" } } }).config.sync!.remote.custom!.rcloneOptions).toEqual({});
    expect(keys(load({ sync: { provider: "custom", mode: "mirror", custom: { rcloneType: "sftp]\n[x" } } }))).toEqual(["sync.custom.rcloneType"]);
  });

  it("an OAuth provider needs its block unless configPath points at the user's own rclone.conf", () => {
    for (const provider of ["dropbox", "gdrive", "onedrive", "s3"]) {
      const r = load({ sync: { provider, mode: "mailbox" } });
      expect(message(r, `sync.${provider}`)).toMatch(/required.*configPath/);
    }
    const ro = load({ sync: { provider: "dropbox", mode: "mailbox", configPath: "~/.config/rclone/rclone.conf", remoteName: "mydropbox" } });
    expect(ro.problems).toEqual([]);
    expect(ro.config.sync!.remote).toEqual({ provider: "dropbox", remoteName: "mydropbox", configPath: `${HOME}/.config/rclone/rclone.conf` });
    const withBlock = load({ sync: { provider: "dropbox", mode: "mailbox", dropbox: { appFolder: true, token: "{}" } } });
    expect(withBlock.config.sync!.remote).toEqual({ provider: "dropbox", remoteName: "cloud", dropbox: { appFolder: true, token: "{}" } });
  });

  it("s3 needs a bucket unless the user's rclone.conf is used", () => {
    expect(message(load({ sync: { provider: "s3", mode: "mailbox", s3: { region: "x" } } }), "sync.s3.bucket")).toMatch(/required/);
    expect(load({ sync: { provider: "s3", mode: "mailbox", configPath: "/etc/rclone.conf" } }).problems).toEqual([]);
  });

  it("validates remoteName, configPath and the provider block fields", () => {
    expect(message(syncWith({ remoteName: "my remote" }), "sync.remoteName")).toMatch(/letters, digits/);
    expect(keys(syncWith({ remoteName: "-x" }))).toEqual(["sync.remoteName"]);
    expect(keys(syncWith({ remoteName: "" }))).toEqual(["sync.remoteName"]);
    expect(message(syncWith({ configPath: "rclone.conf" }), "sync.configPath")).toMatch(/absolute/);
    const r = load({ sync: { provider: "onedrive", mode: "mailbox", onedrive: { driveType: "team", driveId: " id", tokn: "{}" } } });
    expect(message(r, "sync.onedrive.driveType")).toMatch(/"personal", "business", "sharepoint"/);
    expect(message(r, "sync.onedrive.driveId")).toMatch(/spaces/);
    expect(message(r, "sync.onedrive.tokn")).toMatch(/did you mean "token"/);
    expect(message(load({ sync: { provider: "dropbox", mode: "mailbox", dropbox: "token" } }), "sync.dropbox")).toMatch(/must be an object/);
    expect(message(load({ sync: { provider: "dropbox", mode: "mailbox", dropbox: { appFolder: "yes" } } }), "sync.dropbox.appFolder")).toMatch(/true or false/);
  });

  it("crypt needs a password and cannot wrap a read-only rclone.conf remote", () => {
    expect(message(syncWith({ crypt: {} }), "sync.crypt.password")).toMatch(/required/);
    const ro = load({ sync: { provider: "gdrive", mode: "mailbox", configPath: "/etc/rclone.conf", crypt: { password: "p" } } });
    expect(message(ro, "sync.crypt")).toMatch(/cannot wrap/);
    expect(syncWith({ crypt: { password: "p" } }).config.sync!.remote.crypt).toEqual({ password: "p" });
  });
});

describe("sync values", () => {
  it("mode must be one of the three", () => {
    expect(message(syncWith({ mode: "push" }), "sync.mode")).toMatch(/"mailbox", "mirror", "bisync"/);
  });

  it("localPath must be relative, normalised, inside the workspace, one line", () => {
    expect(message(syncWith({ localPath: "/" }), "sync.localPath")).toMatch(/relative/);
    expect(message(syncWith({ localPath: "C:\\data" }), "sync.localPath")).toMatch(/relative/);
    expect(message(syncWith({ localPath: "~/x" }), "sync.localPath")).toMatch(/relative/);
    expect(message(syncWith({ localPath: "../escape" }), "sync.localPath")).toMatch(/inside the workspace/);
    expect(message(syncWith({ localPath: "a/../../b" }), "sync.localPath")).toMatch(/inside the workspace/);
    expect(message(syncWith({ localPath: "a\0b" }), "sync.localPath")).toMatch(/NUL/);
    expect(message(syncWith({ localPath: "a\nb" }), "sync.localPath")).toMatch(/single line/);
    expect(syncWith({ localPath: "./shared/" }).config.sync!.localPath).toBe("shared");
    expect(syncWith({ localPath: "a/../b//c" }).config.sync!.localPath).toBe("b/c");
    expect(syncWith({ localPath: "." }).config.sync!.localPath).toBe("");
  });

  it("ingestPath must name a folder inside the synced folder", () => {
    expect(keys(syncWith({ ingestPath: "" }))).toEqual(["sync.ingestPath"]);
    expect(keys(syncWith({ ingestPath: "." }))).toEqual(["sync.ingestPath"]);
    expect(keys(syncWith({ ingestPath: "../in" }))).toEqual(["sync.ingestPath"]);
    expect(keys(syncWith({ ingestPath: "/in" }))).toEqual(["sync.ingestPath"]);
  });

  it("remotePath may be empty but may not climb with ..", () => {
    expect(syncWith({ remotePath: "" }).config.sync!.remotePath).toBe("");
    expect(keys(syncWith({ remotePath: "a/../../b" }))).toEqual(["sync.remotePath"]);
    expect(keys(syncWith({ remotePath: "a\nb" }))).toEqual(["sync.remotePath"]);
  });

  it("interval is 0 or 60..max whole seconds; huge, fractional, NaN and quoted numbers are rejected", () => {
    for (const ok of [0, 60, 3600, 2147483]) expect(syncWith({ interval: ok }).problems, String(ok)).toEqual([]);
    for (const bad of [30, 59, -60, 90.5, 2147484, 1e300, NaN, Infinity]) {
      expect(message(syncWith({ interval: bad }), "sync.interval"), String(bad)).toMatch(/0 \(sync only when asked\)|finite/);
    }
    expect(message(syncWith({ interval: "300" }), "sync.interval")).toMatch(/not a string \(write 300 without quotes/);
  });

  it("timeout is >= 60 whole seconds", () => {
    expect(message(syncWith({ timeout: 59 }), "sync.timeout")).toMatch(/from 60/);
    expect(keys(syncWith({ timeout: 0 }))).toEqual(["sync.timeout"]);
    expect(keys(syncWith({ timeout: 61.5 }))).toEqual(["sync.timeout"]);
  });

  it("maxDelete is a percentage, trashDays whole days", () => {
    for (const bad of [-1, 101, NaN]) expect(keys(syncWith({ maxDelete: bad }))).toEqual(["sync.maxDelete"]);
    for (const bad of [-1, 1.5, 1e9]) expect(keys(syncWith({ trashDays: bad }))).toEqual(["sync.trashDays"]);
    expect(syncWith({ maxDelete: 0, trashDays: 0 }).problems).toEqual([]);
  });

  it("booleans must be booleans; enums list their values", () => {
    expect(message(syncWith({ onSessionStart: "true" }), "sync.onSessionStart")).toMatch(/true or false, not a string/);
    expect(keys(syncWith({ onSessionEnd: 1, copySymlinks: null, ingest: [], notifyOnInbox: {} })).sort()).toEqual(
      ["sync.copySymlinks", "sync.ingest", "sync.notifyOnInbox", "sync.onSessionEnd"],
    );
    expect(message(syncWith({ conflictResolve: "newest" }), "sync.conflictResolve")).toMatch(/"newer", "local", "remote".*did you mean "newer"/);
  });

  it("exclude is a list of one-line patterns", () => {
    expect(message(syncWith({ exclude: "*.log" }), "sync.exclude")).toMatch(/list of glob patterns/);
    expect(keys(syncWith({ exclude: ["ok", 3, "", "a\nb"] }))).toEqual(["sync.exclude[1]", "sync.exclude[2]", "sync.exclude[3]"]);
  });

  it("rclonePath must be absolute", () => {
    expect(message(load({ sync: LOCAL, rclonePath: "rclone" }), "rclonePath")).toMatch(/absolute/);
  });
});

describe("unknown and misplaced keys", () => {
  it("suggests the closest key", () => {
    const r = load({ sync: { ...LOCAL, intervall: 300, RemotePath: "x", onSesionEnd: true } });
    expect(message(r, "sync.intervall")).toMatch(/did you mean "interval"/);
    expect(message(r, "sync.RemotePath")).toMatch(/did you mean "remotePath"/);
    expect(message(r, "sync.onSesionEnd")).toMatch(/did you mean "onSessionEnd"/);
  });

  it("says when nothing is close and lists short key sets", () => {
    expect(message(syncWith({ zzzzzzzz: 1 }), "sync.zzzzzzzz")).toMatch(/not a known setting/);
    expect(message(syncWith({ local: { path: "/x", qqqqqq: 1 } }), "sync.local.qqqqqq")).toMatch(/known here: path/);
  });

  it("points backup keys at the backup block and the backup block at the top level", () => {
    const r = load({ sync: { ...LOCAL, passphrase: "x", backup: {} } });
    expect(message(r, "sync.passphrase")).toMatch(/backup setting/);
    expect(message(r, "sync.backup")).toMatch(/top level/);
    expect(message(load({ ...LOCAL, encrypt: true }), "encrypt")).toMatch(/backup setting/);
    expect(message(load({ bogus: 1 }), "bogus")).toMatch(/not a known setting/);
    expect(message(load({ sync: LOCAL, backups: {} }), "backups")).toMatch(/did you mean "backup"/);
    expect(message(load({ Sync: LOCAL }), "Sync")).toMatch(/did you mean "sync"/);
  });

  it("a sync block that is not an object is reported", () => {
    expect(message(load({ sync: "dropbox" }), "sync")).toMatch(/must be an object/);
  });

  it("collects every problem at once", () => {
    const r = load({ sync: { provider: "local", local: { path: "/tmp/x" }, localPath: "../escape", interval: 30, intervall: 5 } });
    expect(keys(r).sort()).toEqual(["sync.interval", "sync.intervall", "sync.localPath", "sync.mode"]);
  });
});

describe("${VAR} placeholders", () => {
  it("are resolved before validation", () => {
    const r = load({ sync: { ...LOCAL, local: { path: "${NAS}" }, remotePath: "${HOST_NAME}/share" } }, { NAS: "/mnt/x", HOST_NAME: "box" });
    expect(r.problems).toEqual([]);
    expect(r.config.sync!.remote.local!.path).toBe("/mnt/x");
    expect(r.config.sync!.remotePath).toBe("box/share");
  });

  it("an unset variable names the key and variable once, without a second validation problem", () => {
    const r = load({ sync: { ...LOCAL, local: { path: "${NAS_MOUNT_FOR_TEST}" } } });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.key).toBe("sync.local.path");
    expect(r.problems[0]!.message).toContain("NAS_MOUNT_FOR_TEST");
    expect(r.config.sync).toBeUndefined();
  });

  it("a placeholder cannot fill a number", () => {
    const r = load({ sync: { ...LOCAL, interval: "${SYNC_INTERVAL}" } }, { SYNC_INTERVAL: "300" });
    expect(message(r, "sync.interval")).toMatch(/placeholder always gives text/);
  });
});
