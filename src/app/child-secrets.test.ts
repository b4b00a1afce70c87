import { describe, expect, it } from "vitest";
import { childEnv } from "../util/child-env.js";
import { secretValues } from "./child-secrets.js";

describe("configured secrets kept out of rclone children", () => {
  it("collects every secret-marked value of a resolved config, wherever it sits", () => {
    const config = {
      sync: {
        remote: { provider: "s3", s3: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3-secret-value" }, crypt: { password: "crypt-one", password2: "crypt-two" } },
        exclude: ["*.tmp"],
      },
      backup: {
        passphrase: "the passphrase",
        recipients: ["age1public"],
        remote: { provider: "custom", custom: { rcloneType: "sftp", rcloneOptions: { host: "h", user: "u", pass: "sftp-pass", port: 22 } }, dropbox: { token: '{"access_token":"t"}' } },
      },
    };
    expect(secretValues(config).sort()).toEqual(['{"access_token":"t"}', "crypt-one", "crypt-two", "s3-secret-value", "sftp-pass", "the passphrase"].sort());
  });

  it("drops variables equal to or containing a secret", () => {
    expect(childEnv({ PATH: "/bin", S3: "s3-secret-value", WRAPPED: "x=s3-secret-value", SHORT: "ab" }, ["s3-secret-value", "ab"])).toEqual({ PATH: "/bin" });
  });
});
