import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { BackupConfig } from "../config/types.js";
import { generateIdentity } from "./crypto/index.js";
import { childEnv, unlockFor } from "./keys.js";

const base = { encrypt: true, recipients: [], passphrase: "s3cret pass" } as unknown as BackupConfig;

describe("keys", () => {
  it("strips every variable carrying the passphrase from a child's environment", () => {
    const env = { PATH: "/bin", BACKUP_PASSPHRASE: "s3cret pass", OTHER: "x s3cret pass y", SHORT: "s3c", HOME: "/h" };
    expect(childEnv(env, ["s3cret pass"])).toEqual({ PATH: "/bin", SHORT: "s3c", HOME: "/h" });
    expect(childEnv(env, [])).toEqual(env);
  });

  it("reads identities from --identity before identityFile, with clear errors", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ws-keys-"));
    try {
      const { identity } = generateIdentity();
      const file = path.join(dir, "key.txt");
      await writeFile(file, `# created: now\n${identity}\n`);
      expect((await unlockFor({ ...base, identityFile: "/nope" }, file)).identities).toEqual([identity]);
      await expect(unlockFor({ ...base, identityFile: path.join(dir, "missing") })).rejects.toMatchObject({ exitCode: 2, message: /cannot read the age identity file/ });
      await writeFile(file, "garbage\n");
      await expect(unlockFor(base, file)).rejects.toMatchObject({ exitCode: 2, message: /not an age identity file/ });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
