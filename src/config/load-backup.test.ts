// Backup settings: inheritance from sync, defaults, encryption rules, retention, remotes.
import { describe, expect, it } from "vitest";
import { type LoadResult, loadPluginConfig } from "./load.js";
import { type BackupConfig, DEFAULT_EXCLUDES } from "./types.js";

const HOME = "/home/tester";
const load = (raw: unknown, env: Record<string, string> = {}) => loadPluginConfig(raw, { HOME, ...env });
const keys = (r: LoadResult) => r.problems.map((p) => p.key);
const message = (r: LoadResult, key: string) => {
  const found = r.problems.filter((p) => p.key === key);
  expect(found, `a problem at ${key} in ${JSON.stringify(r.problems)}`).toHaveLength(1);
  return found[0]!.message;
};
const SYNC = { provider: "local", mode: "mailbox", local: { path: "/mnt/nas" }, crypt: { password: "c" } };
const ENCRYPTED = { enabled: true, encrypt: true, passphrase: "pw" };
const backupWith = (extra: Record<string, unknown>, sync: Record<string, unknown> = SYNC) => load({ sync, backup: { ...ENCRYPTED, ...extra } });
const RECIPIENT = `age1${"qpzry9x8gf2tvdw0s3jn54khce6mua7l".repeat(2).slice(0, 58)}`;

describe("defaults and inheritance", () => {
  it("fills every backup default and shares the sync remote without its crypt wrapper", () => {
    const r = load({ sync: SYNC, backup: { encrypt: true, passphrase: "pw" } });
    expect(r.problems).toEqual([]);
    expect(r.config.backup).toEqual<BackupConfig>({
      enabled: false,
      remote: { provider: "local", remoteName: "cloud", local: { path: "/mnt/nas" } },
      prefix: "",
      interval: 86400,
      timeout: 3600,
      encrypt: true,
      passphrase: "pw",
      recipients: [],
      include: ["workspace", "config", "cron", "memory"],
      retain: 7,
      exclude: DEFAULT_EXCLUDES,
      compression: "zstd",
      allowPlaintextSecrets: false,
      format: "archive",
    });
  });

  it("keeps every value given", () => {
    const r = backupWith({
      bucket: "bk",
      prefix: "host/",
      interval: 300,
      timeout: 60,
      include: ["workspace", "sessions", "workspace"],
      retain: { daily: 7, weekly: 4, last: 0 },
      exclude: ["*.bin"],
      compression: "none",
      identityFile: "~/.age/key.txt",
    });
    expect(r.problems).toEqual([]);
    const b = r.config.backup!;
    expect(b).toMatchObject({
      bucket: "bk",
      prefix: "host/",
      interval: 300,
      timeout: 60,
      include: ["workspace", "sessions"],
      retain: { daily: 7, weekly: 4, last: 0 },
      exclude: ["*.bin"],
      compression: "none",
      identityFile: `${HOME}/.age/key.txt`,
    });
  });

  it("backup.exclude defaults to the sync exclude list", () => {
    expect(load({ sync: { ...SYNC, exclude: ["*.tmp"] }, backup: ENCRYPTED }).config.backup!.exclude).toEqual(["*.tmp"]);
  });

  it("a backup-only config (no sync) needs its own provider", () => {
    const r = load({ backup: { enabled: true } });
    expect(message(r, "backup.provider")).toMatch(/not set.*no sync provider/);
    expect(load({ backup: { enabled: false } }).problems).toEqual([]);
    const off = load({ sync: SYNC, backup: { ...ENCRYPTED, provider: "off" } });
    expect(message(off, "backup.provider")).toMatch(/"off"/);
    const own = load({ backup: { ...ENCRYPTED, provider: "local", local: { path: "/mnt/usb" } } });
    expect(own.problems).toEqual([]);
    expect(own.config.sync).toBeUndefined();
    expect(own.config.backup!.remote).toEqual({ provider: "local", remoteName: "cloud-backup", local: { path: "/mnt/usb" } });
  });

  it("uses its own block under its own remote name, or a provider block from the sync settings", () => {
    const own = backupWith({ provider: "s3", s3: { bucket: "b", secretAccessKey: "k" } });
    expect(own.problems).toEqual([]);
    expect(own.config.backup!.remote).toEqual({ provider: "s3", remoteName: "cloud-backup", s3: { bucket: "b", secretAccessKey: "k" } });
    const shared = backupWith({ provider: "s3" }, { ...SYNC, s3: { bucket: "shared" } });
    expect(shared.problems).toEqual([]);
    expect(shared.config.backup!.remote).toEqual({ provider: "s3", remoteName: "cloud-backup", s3: { bucket: "shared" } });
    // Same provider as sync but another account: its own section.
    const sameProvider = backupWith({ local: { path: "/mnt/other" } });
    expect(sameProvider.config.backup!.remote).toEqual({ provider: "local", remoteName: "cloud-backup", local: { path: "/mnt/other" } });
  });

  it("a missing block, a missing s3 bucket and a clashing remote name are problems", () => {
    expect(message(backupWith({ provider: "s3" }), "backup.s3")).toMatch(/required/);
    expect(message(backupWith({ provider: "s3", s3: { region: "auto" } }), "backup.bucket")).toMatch(/required for an s3 backup/);
    expect(backupWith({ provider: "s3", bucket: "b", s3: { region: "auto" } }).problems).toEqual([]);
    expect(message(backupWith({ provider: "s3", remoteName: "cloud", s3: { bucket: "b" } }), "backup.remoteName")).toMatch(/must differ/);
  });

  it("can read a remote from the user's own rclone.conf", () => {
    const r = backupWith({ provider: "s3", configPath: "/etc/rclone.conf", remoteName: "r2" });
    expect(r.problems).toEqual([]);
    expect(r.config.backup!.remote).toEqual({ provider: "s3", remoteName: "r2", configPath: "/etc/rclone.conf" });
    expect(message(backupWith({ provider: "s3", configPath: "/etc/rclone.conf" }), "backup.remoteName")).toMatch(/required/);
  });

  it("a sync problem is not repeated for a backup that shares the sync remote or its block", () => {
    expect(keys(load({ sync: { provider: "local", mode: "mailbox" }, backup: ENCRYPTED }))).toEqual(["sync.local"]);
    expect(keys(backupWith({ provider: "s3" }, { ...SYNC, s3: "bucket" }))).toEqual(["sync.s3"]);
    expect(keys(backupWith({ provider: "s3", s3: [] }))).toEqual(["backup.s3"]);
  });

  it("lists problems in the order the config is written", () => {
    const r = load({ sync: { ...SYNC, interval: 1 }, backup: { ...ENCRYPTED, passphrase: "${UNSET_PASS}" }, rclonePath: "rclone" });
    expect(keys(r)).toEqual(["sync.interval", "backup.passphrase", "rclonePath"]);
  });

  it("a bad remoteName or configPath does not hide a missing block", () => {
    expect(keys(backupWith({ provider: "gdrive", remoteName: "a b" })).sort()).toEqual(["backup.gdrive", "backup.remoteName"]);
    expect(keys(backupWith({ provider: "gdrive", remoteName: "a b", configPath: "/etc/rclone.conf" }))).toEqual(["backup.remoteName"]);
    expect(keys(backupWith({ provider: "custom", remoteName: "a b" })).sort()).toEqual(["backup.custom", "backup.remoteName"]);
    expect(keys(load({ sync: { provider: "custom", mode: "mailbox", remoteName: "a b", crypt: {} } })).sort()).toEqual(
      ["sync.crypt.password", "sync.custom", "sync.remoteName"],
    );
  });
});

describe("backup values", () => {
  it("interval must be >= 300 (a problem, not clamped); timeout >= 60", () => {
    expect(message(backupWith({ interval: 299 }), "backup.interval")).toMatch(/from 300/);
    expect(keys(backupWith({ interval: 0 }))).toEqual(["backup.interval"]);
    expect(keys(backupWith({ interval: 3600.5 }))).toEqual(["backup.interval"]);
    expect(keys(backupWith({ interval: 1e12 }))).toEqual(["backup.interval"]);
    expect(keys(backupWith({ timeout: 59 }))).toEqual(["backup.timeout"]);
  });

  it("include names known items, at least one", () => {
    expect(message(backupWith({ include: ["workspace", "sesions"] }), "backup.include[1]")).toMatch(/did you mean "sessions"/);
    expect(keys(backupWith({ include: [] }))).toEqual(["backup.include"]);
    expect(keys(backupWith({ include: "workspace" }))).toEqual(["backup.include"]);
  });

  it("retain is N >= 1 or periods with at least one above 0", () => {
    for (const ok of [1, 7, { daily: 7 }, { last: 0, yearly: 1 }]) expect(backupWith({ retain: ok }).problems, JSON.stringify(ok)).toEqual([]);
    for (const bad of [0, -1, 1.5, 1e9, "7", null, [7], {}, { daily: 0 }]) expect(keys(backupWith({ retain: bad })), JSON.stringify(bad)).toEqual(["backup.retain"]);
    expect(message(backupWith({ retain: { dayly: 7 } }), "backup.retain.dayly")).toMatch(/did you mean "daily"/);
    expect(keys(backupWith({ retain: { daily: -1, weekly: 2.5 } }))).toEqual(["backup.retain.daily", "backup.retain.weekly"]);
  });

  it("compression, prefix, bucket and the crypt key", () => {
    expect(message(backupWith({ compression: "xz" }), "backup.compression")).toMatch(/"zstd", "gzip", "none"/);
    expect(keys(backupWith({ prefix: "../up" }))).toEqual(["backup.prefix"]);
    expect(keys(backupWith({ bucket: "" }))).toEqual(["backup.bucket"]);
    expect(message(backupWith({ crypt: { password: "x" } }), "backup.crypt")).toMatch(/sync remote only/);
    expect(message(backupWith({ mode: "mailbox" }), "backup.mode")).toMatch(/sync setting/);
    expect(message(backupWith({ enabeld: true }), "backup.enabeld")).toMatch(/did you mean "enabled"/);
    expect(message(load({ sync: SYNC, backup: [] }), "backup")).toMatch(/must be an object/);
  });

  it("identityFile must be absolute", () => {
    expect(keys(backupWith({ identityFile: "key.txt" }))).toEqual(["backup.identityFile"]);
  });
});

describe("encryption rules", () => {
  const plain = { enabled: true };

  it("encrypt: true needs a passphrase or recipients", () => {
    expect(message(backupWith({ passphrase: undefined }), "backup.encrypt")).toMatch(/passphrase.*recipients/);
    expect(message(load({ sync: SYNC, backup: { encrypt: true, recipients: [] } }), "backup.encrypt")).toMatch(/no key/);
    expect(load({ sync: SYNC, backup: { encrypt: true, recipients: [RECIPIENT] } }).problems).toEqual([]);
  });

  it("passphrase and recipients together are a problem", () => {
    expect(message(backupWith({ recipients: [RECIPIENT] }), "backup.passphrase")).toMatch(/choose one/);
  });

  it("recipients must look like age X25519 recipients", () => {
    const r = load({ sync: SYNC, backup: { encrypt: true, recipients: [RECIPIENT, "age1short", `AGE1${RECIPIENT.slice(4)}`, `age1${"b".repeat(58)}`] } });
    expect(keys(r)).toEqual(["backup.recipients[1]", "backup.recipients[2]", "backup.recipients[3]"]);
    expect(message(r, "backup.recipients[1]")).toMatch(/age-keygen/);
  });

  it("a key without encrypt: true would store plaintext: a problem", () => {
    expect(message(load({ sync: SYNC, backup: { passphrase: "p" } }), "backup.encrypt")).toMatch(/unencrypted.*"encrypt": true/);
    expect(message(load({ sync: SYNC, backup: { encrypt: false, recipients: [RECIPIENT] } }), "backup.encrypt")).toMatch(/unencrypted/);
  });

  it("unencrypted secrets need allowPlaintextSecrets", () => {
    const r = load({ sync: SYNC, backup: plain });
    expect(message(r, "backup.encrypt")).toMatch(/config.*allowPlaintextSecrets/);
    for (const item of ["credentials", "env", "agents"]) {
      expect(message(load({ sync: SYNC, backup: { ...plain, include: ["workspace", item] } }), "backup.encrypt")).toContain(item);
    }
    expect(load({ sync: SYNC, backup: { ...plain, allowPlaintextSecrets: true } }).problems).toEqual([]);
    expect(load({ sync: SYNC, backup: { ...plain, include: ["workspace", "memory", "sessions"] } }).problems).toEqual([]);
    expect(keys(load({ sync: SYNC, backup: { ...plain, encrypt: "no" } }))).toEqual(["backup.encrypt"]);
  });
});
