// Secret values never reach a problem message, and redactConfig hides them for `status`.
import { describe, expect, it } from "vitest";
import { loadPluginConfig } from "./load.js";
import { REDACTED, redactConfig } from "./redact.js";
import { isSecretPath } from "./schema.js";

const MARK = "SEKRIT";

describe("problem messages never carry a secret", () => {
  it("whatever is wrong with the secret values", () => {
    const raw = {
      sync: {
        provider: "dropbox",
        mode: "mailbox",
        dropbox: { token: `${MARK}\nline2`, appSecret: `${MARK} ` },
        gdrive: { clientSecret: ` ${MARK}`, token: `${MARK}\0` },
        crypt: { password: `${MARK}\${lower_${MARK}}`, password2: `x\n${MARK}` },
        custom: { rcloneType: "sftp", rcloneOptions: { api_key: `${MARK}\n`, session_token: `${MARK}\r`, key_file: `/k\n${MARK}` } },
      },
      backup: {
        provider: "s3",
        encrypt: "yes",
        passphrase: `${MARK}\u0007`,
        s3: { bucket: "b", secretAccessKey: `${MARK}\n`, accessKeyId: `${MARK}-not-secret-but-unprinted\n` },
        onedrive: { token: `\${${MARK}_TOKEN}`, clientSecret: "${ALSO_UNSET}" },
      },
    };
    const { problems } = loadPluginConfig(raw, { HOME: "/h" });
    const printed = JSON.stringify(problems);
    // The only mention allowed is a variable NAME that happens to contain the marker.
    const withoutVarNames = printed.replaceAll(`${MARK}_TOKEN`, "");
    expect(withoutVarNames).not.toContain(MARK);
    const keys = problems.map((p) => p.key);
    for (const key of [
      "sync.dropbox.token",
      "sync.dropbox.appSecret",
      "sync.gdrive.clientSecret",
      "sync.gdrive.token",
      "sync.crypt.password",
      "sync.crypt.password2",
      "sync.custom.rcloneOptions.api_key",
      "sync.custom.rcloneOptions.session_token",
      "sync.custom.rcloneOptions.key_file",
      "backup.encrypt",
      "backup.passphrase",
      "backup.s3.secretAccessKey",
      "backup.s3.accessKeyId",
      "backup.onedrive.token",
      "backup.onedrive.clientSecret",
    ]) {
      expect(keys, key).toContain(key);
    }
  });

  it("a value resolved from the environment is not echoed either", () => {
    const { problems } = loadPluginConfig(
      { sync: { provider: "s3", mode: "mailbox", s3: { bucket: "b", secretAccessKey: "${AWS_SECRET}" } } },
      { AWS_SECRET: `${MARK}\nsecond line` },
    );
    expect(problems.map((p) => p.key)).toEqual(["sync.s3.secretAccessKey"]);
    expect(JSON.stringify(problems)).not.toContain(MARK);
  });

  it("knows which keys are secret", () => {
    for (const k of ["sync.dropbox.token", "appSecret", "backup.s3.secretAccessKey", "crypt.password", "crypt.password2", "backup.passphrase", "gdrive.clientSecret"]) {
      expect(isSecretPath(k), k).toBe(true);
    }
    for (const k of ["custom.rcloneOptions.pass", "custom.rcloneOptions.key_file", "custom.rcloneOptions.sas_url_secret", "custom.rcloneOptions.API_KEY"]) {
      expect(isSecretPath(k), k).toBe(true);
    }
    for (const k of ["sync.remotePath", "custom.rcloneOptions.host", "s3.accessKeyId", "dropbox.appKey", "exclude[0]"]) expect(isSecretPath(k), k).toBe(false);
  });
});

describe("redactConfig", () => {
  it("replaces every secret with *** and keeps the rest, as JSON", () => {
    const { config, problems } = loadPluginConfig(
      {
        sync: {
          provider: "custom",
          mode: "mailbox",
          custom: { rcloneType: "sftp", rcloneOptions: { host: "example.com", user: "me", pass: "pw1", key_file: "/k", port: 22, md5sum_command: "md5sum" } },
          crypt: { password: "cp", password2: "cp2" },
          dropbox: { appKey: "ak", appSecret: "as", token: "tok" },
        },
        backup: {
          provider: "s3",
          encrypt: true,
          passphrase: "bp",
          s3: { bucket: "b", accessKeyId: "AKID", secretAccessKey: "sak" },
        },
      },
      {},
    );
    expect(problems).toEqual([]);
    const red = redactConfig(config) as {
      sync: { remote: { custom: { rcloneOptions: Record<string, unknown> }; crypt: Record<string, unknown> }; mode: string };
      backup: { passphrase: string; remote: { s3: Record<string, unknown> } };
    };
    expect(red.sync.remote.custom.rcloneOptions).toEqual({ host: "example.com", user: "me", pass: REDACTED, key_file: REDACTED, port: 22, md5sum_command: "md5sum" });
    expect(red.sync.remote.crypt).toEqual({ password: REDACTED, password2: REDACTED });
    expect(red.sync.mode).toBe("mailbox");
    expect(red.backup.passphrase).toBe(REDACTED);
    expect(red.backup.remote.s3).toEqual({ bucket: "b", accessKeyId: "AKID", secretAccessKey: REDACTED });
    const text = JSON.stringify(red);
    for (const secret of ["pw1", '"cp"', "cp2", '"bp"', "sak"]) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toEqual(red);
    // The original is untouched.
    expect(config.backup!.passphrase).toBe("bp");
  });

  it("hides OAuth tokens and client secrets of every provider", () => {
    const red = redactConfig({
      sync: undefined,
      backup: undefined,
      rclonePath: "/usr/bin/rclone",
    });
    expect(red).toEqual({ rclonePath: "/usr/bin/rclone" });
    const spec = redactConfig({
      sync: {
        remote: {
          provider: "gdrive",
          remoteName: "cloud",
          gdrive: { token: "t", clientId: "id", clientSecret: "cs" },
          onedrive: { token: "t2", clientSecret: "cs2", driveId: "d" },
          dropbox: { token: "t3", appSecret: "as" },
        },
      } as never,
    });
    expect(JSON.stringify(spec)).not.toMatch(/"t"|"cs"|"t2"|"cs2"|"t3"|"as"/);
    expect(JSON.stringify(spec)).toContain('"clientId":"id"');
  });
});
