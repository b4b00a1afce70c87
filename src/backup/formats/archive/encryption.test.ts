import { describe, expect, it } from "vitest";
import type { BackupConfig } from "../../../config/types.js";
import { generateIdentity } from "../../crypto/index.js";
import { describeEncryption, encryptionFor } from "./encryption.js";

const base = { encrypt: true, recipients: [], passphrase: "s3cret pass" } as unknown as BackupConfig;

describe("archive encryption", () => {
  it("describes the scheme without the secret", () => {
    expect(encryptionFor(base).info).toEqual({ scheme: "age", recipientType: "scrypt" });
    const { recipient } = generateIdentity();
    expect(encryptionFor({ ...base, passphrase: undefined, recipients: [recipient] }).info).toEqual({ scheme: "age", recipientType: "x25519", recipients: [recipient] });
    expect(encryptionFor({ ...base, encrypt: false }).create()).toBeUndefined();
  });

  it("describes the scheme in a few words", () => {
    expect(describeEncryption({ scheme: "none" })).toBe("none");
    expect(describeEncryption({ scheme: "age", recipientType: "scrypt" })).toBe("age (passphrase)");
  });
});
