// The flags form of every provider path: answers given as flags (secrets from the environment) make a config the
// loader accepts as it is; bad flag values are refused with the loader's own reason.
import { describe, expect, it } from "vitest";
import { loadPluginConfig } from "../config/index.js";
import { Asker } from "./ask.js";
import { secretVars, toPluginConfig } from "./answers.js";
import type { Presets } from "./flags.js";
import { askAnswers } from "./questions.js";
import { plainUi } from "./ui.js";

const quiet = plainUi({ stream: { write: () => true } as unknown as NodeJS.WritableStream });

async function scripted(flags: Record<string, string | boolean | string[]>, env: Record<string, string> = {}) {
  const ask = new Asker(quiet, new Map(Object.entries(flags)) as Presets, true, env);
  const answers = await askAnswers(ask);
  const { config, secrets } = toPluginConfig(answers);
  const loaded = loadPluginConfig(config, secretVars(secrets));
  return { config, secrets, problems: loaded.problems, loaded: loaded.config };
}

const PASS = "correct horse battery staple 42";
const AGE = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

describe("setup answers as flags, per provider", () => {
  it.each([
    ["local", { provider: "local", "local-folder": "/mnt/nas/openclaw", mode: "mailbox" }, {}],
    ["dropbox (app folder)", { provider: "dropbox", "dropbox-app-folder": true, "dropbox-app-key": "k123", mode: "mirror", "remote-path": "" }, { SYNC_DROPBOX_APP_SECRET: "s" }],
    ["dropbox (rclone's app)", { provider: "dropbox", mode: "mirror" }, {}],
    ["gdrive (shared drive)", { provider: "gdrive", "gdrive-team-drive": "0ABcD", "gdrive-client-id": "cid.apps", mode: "bisync" }, { SYNC_GDRIVE_CLIENT_SECRET: "cs" }],
    ["onedrive", { provider: "onedrive", "onedrive-drive-type": "business", mode: "mailbox" }, {}],
    ["s3 aws", { provider: "s3", "s3-bucket": "b", mode: "mailbox" }, { SYNC_S3_ACCESS_KEY_ID: "AK", SYNC_S3_SECRET_ACCESS_KEY: "SK" }],
    ["s3 aws instance role", { provider: "s3", "s3-bucket": "b", mode: "mailbox" }, {}],
    ["s3 r2", { provider: "s3", "s3-preset": "r2", "s3-account-id": "abc123", "s3-bucket": "b", mode: "mailbox" }, { SYNC_S3_ACCESS_KEY_ID: "AK", SYNC_S3_SECRET_ACCESS_KEY: "SK" }],
    ["s3 b2", { provider: "s3", "s3-preset": "b2", "s3-region": "us-west-004", "s3-bucket": "b", mode: "mailbox" }, { SYNC_S3_ACCESS_KEY_ID: "AK", SYNC_S3_SECRET_ACCESS_KEY: "SK" }],
    ["s3 minio", { provider: "s3", "s3-preset": "minio", "s3-endpoint": "http://10.0.0.2:9000", "s3-bucket": "b", mode: "mailbox" }, { SYNC_S3_ACCESS_KEY_ID: "AK", SYNC_S3_SECRET_ACCESS_KEY: "SK" }],
    ["custom sftp", { provider: "custom", "custom-type": "sftp", "custom-option": ["host=nas.local", "user=me", "pass=${SFTP_PASS}"], mode: "mailbox" }, { SFTP_PASS: "pw" }],
    ["off + backup to local", { provider: "off", "backup-provider": "local", "backup-local-folder": "/mnt/usb" }, { BACKUP_PASSPHRASE: PASS }],
  ] as const)("%s", async (_name, flags, env) => {
    const r = await scripted({ ...flags } as Record<string, string | boolean | string[]>, { BACKUP_PASSPHRASE: PASS, ...env });
    // Placeholders that point at variables the test did not set (SFTP_PASS is the user's own) are resolved here.
    const problems = loadPluginConfig(r.config, { ...secretVars(r.secrets), ...env }).problems;
    expect(problems).toEqual([]);
    expect(JSON.stringify(r.config)).not.toMatch(/"(SK|AK|s|cs|pp|pw)"/);
  });

  it("writes exact provider blocks (presets, placeholders)", async () => {
    const r2 = await scripted(
      { provider: "s3", "s3-preset": "r2", "s3-account-id": "abc123", "s3-bucket": "b", mode: "mailbox", backup: false },
      { SYNC_S3_ACCESS_KEY_ID: "AK", SYNC_S3_SECRET_ACCESS_KEY: "SK" },
    );
    expect(r2.config).toEqual({
      sync: {
        provider: "s3",
        mode: "mailbox",
        remotePath: "openclaw-share",
        interval: 300,
        onSessionStart: false,
        onSessionEnd: false,
        s3: {
          provider: "Cloudflare",
          endpoint: "https://abc123.r2.cloudflarestorage.com",
          region: "auto",
          bucket: "b",
          accessKeyId: "${SYNC_S3_ACCESS_KEY_ID}",
          secretAccessKey: "${SYNC_S3_SECRET_ACCESS_KEY}",
        },
      },
    });
    expect(r2.secrets).toEqual([
      { envVar: "SYNC_S3_ACCESS_KEY_ID", value: "AK" },
      { envVar: "SYNC_S3_SECRET_ACCESS_KEY", value: "SK" },
    ]);
    const app = await scripted({ provider: "dropbox", "dropbox-app-folder": true, "dropbox-app-key": "k", mode: "mirror", backup: false }, { SYNC_DROPBOX_APP_SECRET: "s" });
    expect(app.config.sync).toMatchObject({ remotePath: "", dropbox: { appFolder: true, appKey: "k", appSecret: "${SYNC_DROPBOX_APP_SECRET}" } });
  });

  it("backups: recipients, retention periods, no encryption leaves credentials out", async () => {
    const rec = await scripted({ provider: "local", "local-folder": "/x", mode: "mailbox", "backup-encrypt": "recipients", "backup-recipient": [AGE], "backup-retain": "daily=7,weekly=4" });
    expect(rec.config.backup).toEqual({ enabled: true, prefix: "openclaw-backups", interval: 86400, encrypt: true, recipients: [AGE], retain: { daily: 7, weekly: 4 } });
    const none = await scripted({ provider: "local", "local-folder": "/x", mode: "mailbox", "backup-encrypt": "none" });
    expect(none.problems).toEqual([]);
    expect(none.config.backup).toMatchObject({ encrypt: false, include: ["workspace", "cron", "memory"] });
  });

  it("refuses bad flag values with the config loader's reason (exit 2), and missing required ones by flag name", async () => {
    const loaderSays = (sync: Record<string, unknown>, key: string) =>
      loadPluginConfig({ sync: { provider: "local", mode: "mailbox", local: { path: "/x" }, ...sync } }, {}).problems.find((p) => p.key === `sync.${key}`)!.message;
    const base = { provider: "local", "local-folder": "/x", mode: "mailbox" };
    await expect(scripted({ ...base, "local-path": "/etc" })).rejects.toMatchObject({ exitCode: 2, message: `--local-path "/etc": ${loaderSays({ localPath: "/etc" }, "localPath")}` });
    await expect(scripted({ ...base, "local-path": "../up" })).rejects.toMatchObject({ message: `--local-path "../up": ${loaderSays({ localPath: "../up" }, "localPath")}` });
    await expect(scripted({ ...base, interval: "30" })).rejects.toMatchObject({ message: `--interval "30": ${loaderSays({ interval: 30 }, "interval")}` });
    await expect(scripted({ ...base, interval: "5m" })).rejects.toMatchObject({ message: '--interval "5m": must be a whole number of seconds, like 300' });
    await expect(scripted({ ...base, "backup-interval": "60" }, { BACKUP_PASSPHRASE: PASS })).rejects.toMatchObject({ message: expect.stringContaining("from 300 (5 minutes)") });
    await expect(scripted({ ...base, "local-folder": "relative/dir" })).rejects.toMatchObject({ message: expect.stringContaining("must be an absolute path") });
    await expect(scripted({ provider: "local", "local-folder": "/x" })).rejects.toMatchObject({ message: expect.stringContaining("--mode is required with --yes") });
    await expect(scripted({ mode: "mailbox" })).rejects.toMatchObject({ message: expect.stringContaining("--provider is required with --yes") });
    await expect(scripted({ ...base, "backup-recipient": ["age1nope"], "backup-encrypt": "recipients" })).rejects.toMatchObject({ message: expect.stringContaining("must be an age X25519 recipient") });
    await expect(scripted({ provider: "s3", "s3-preset": "minio", "s3-bucket": "b", mode: "mailbox" })).rejects.toMatchObject({ message: expect.stringContaining("--s3-endpoint is required") });
    await expect(scripted({ provider: "custom", "custom-type": "sftp", "custom-option": ["pass=hunter2"], mode: "mailbox" })).rejects.toMatchObject({
      message: expect.stringContaining("pass=${SYNC_CUSTOM_PASS}"),
    });
    // Secrets come from the environment, never from flags: missing → a usage error naming the variable.
    await expect(scripted({ ...base })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining("BACKUP_PASSPHRASE") });
    // A weak passphrase is refused with the reason, never echoed.
    const weak = scripted({ ...base }, { BACKUP_PASSPHRASE: "password123456" });
    await expect(weak).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/^the value of BACKUP_PASSPHRASE is too easy to guess/) });
    await expect(weak).rejects.not.toMatchObject({ message: expect.stringContaining("password123456") });
  });

  it("--generate-passphrase: a strong generated passphrase goes to .env, the person is told where and what its loss costs", async () => {
    const lines: string[] = [];
    const ui = plainUi({ stream: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream });
    const ask = new Asker(ui, new Map(Object.entries({ provider: "local", "local-folder": "/x", mode: "mailbox", "generate-passphrase": true })) as Presets, true, {});
    const { secrets } = toPluginConfig(await askAnswers(ask, { envFile: "/state/.env" }));
    const pass = secretVars(secrets).BACKUP_PASSPHRASE!;
    expect(pass).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){6}$/);
    expect(lines.join("")).toMatch(/generated backup passphrase \(BACKUP_PASSPHRASE\) is kept in \/state\/\.env .*without it every encrypted snapshot is unreadable/);
    expect(lines.join("")).not.toContain(pass);
  });
});
