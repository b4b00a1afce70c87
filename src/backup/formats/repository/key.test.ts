// Key files against our own writer; the restic interop (restic-made keys, restic reading ours) is in
// test/e2e/repository-store-interop.test.ts.
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { hasConfig, loadConfig } from "./config.js";
import { newRandomKey } from "./crypto.js";
import { NotARepositoryError, WrongPasswordError } from "./errors.js";
import { hashId } from "./ids.js";
import { addKey, calibrateKdf, checkKdfParams, DEFAULT_KDF, deriveUserKey, deriveUserKeyAhead, dropUserKeyAhead, goTimeUtc, loadKeyFile, makeKeyFile, searchKey } from "./key.js";

const tmp = (p: string) => mkdtemp(path.join(os.tmpdir(), `repo-${p}-`));
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe("key files", () => {
  it("writes restic's layout: field order, 64-byte salt, name = SHA-256 of the bytes", async () => {
    const made = await makeKeyFile("pw", newRandomKey(), { N: 1024, r: 8, p: 1 });
    expect(made.id).toBe(hashId(made.bytes));
    const doc = JSON.parse(made.bytes.toString()) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(["created", "username", "hostname", "kdf", "N", "r", "p", "salt", "data"]);
    expect(Buffer.from(doc.salt as string, "base64").length).toBe(64);
    expect(Buffer.from(doc.data as string, "base64").length).toBe(16 + 16 + Buffer.byteLength('{"mac":{"k":"","r":""},"encrypt":""}') + 24 + 24 + 44);
  });

  it("opens with either of two keys, tries the hinted one first, skips a damaged one, never echoes the password", async () => {
    const storage = new DirStorage(await tmp("keys"));
    const master = newRandomKey();
    const first = await addKey(storage, "first password", master, { params: { N: 1024, r: 8, p: 1 } });
    const second = await addKey(storage, "second password", master, { params: { N: 2048, r: 8, p: 3 } });
    expect((await searchKey(storage, "second password", { hint: second })).id).toBe(second);
    expect((await searchKey(storage, "first password")).master.encrypt.equals(master.encrypt)).toBe(true);

    const err = await failure(searchKey(storage, "not the password"));
    expect(err).toBeInstanceOf(WrongPasswordError);
    expect(err?.message).toMatch(/wrong password: none of the 2 key files/);
    expect(err?.message).not.toContain("not the password");

    const bytes = await storage.load("keys", second);
    await storage.save("keys", second, Buffer.from(bytes.toString().replace('"p":3', '"p":4')));
    await expect(loadKeyFile(storage, second)).rejects.toThrow(`keys/${second} does not match its name`);
    const damaged = await failure(searchKey(storage, "second password"));
    expect(damaged).toBeInstanceOf(WrongPasswordError);
    expect(damaged?.message).toContain(`keys/${second} does not match its name`);
    expect((await searchKey(storage, "first password")).id).toBe(first);
  });

  it("checks scrypt parameters and the salt as restic does", async () => {
    expect(() => checkKdfParams({ N: 1000, r: 8, p: 1 })).toThrow(/power of two/);
    expect(() => checkKdfParams({ N: 1024, r: 0, p: 1 })).toThrow(/positive/);
    expect(() => checkKdfParams({ N: 2 ** 24, r: 8, p: 1 })).toThrow(/out of range|1 GiB/);
    await expect(deriveUserKey("x", Buffer.alloc(32), DEFAULT_KDF)).rejects.toThrow(/salt is 32 bytes; restic requires 64/);
    // restic's own N = 32768, r = 8 needs Node's maxmem raised: this derivation fails with the default 32 MiB.
    expect((await deriveUserKey("x", Buffer.alloc(64, 1), DEFAULT_KDF)).encrypt.length).toBe(32);
    const cal = await calibrateKdf();
    expect(cal.r).toBe(8);
    expect(cal.N).toBeLessThanOrEqual(32768);
    expect(cal.p).toBeGreaterThanOrEqual(1);
  });

  it("takes over a derivation started ahead only for the same password, salt and parameters", async () => {
    const storage = new DirStorage(await tmp("ahead"));
    const master = newRandomKey();
    const id = await addKey(storage, "right", master, { params: { N: 1024, r: 8, p: 1 } });
    const file = await loadKeyFile(storage, id);
    const salt = Buffer.from(file.salt, "base64");
    const params = { N: file.N, r: file.r, p: file.p };

    deriveUserKeyAhead("right", salt, params);
    const taken = deriveUserKey("right", salt, params);
    expect(deriveUserKey("right", salt, params)).not.toBe(taken); // taken over once, then derived afresh
    expect(await taken).toEqual(await deriveUserKey("right", salt, params));
    expect((await searchKey(storage, "right", { hint: id })).master).toEqual(master);

    // Another password, salt or parameters never get the key derived ahead: a wrong password stays wrong.
    deriveUserKeyAhead("right", salt, params);
    expect(await deriveUserKey("wrong", salt, params)).not.toEqual(await deriveUserKey("right", salt, params));
    deriveUserKeyAhead("right", salt, params);
    expect(await failure(searchKey(storage, "wrong", { hint: id }))).toBeInstanceOf(WrongPasswordError);
    dropUserKeyAhead();

    // A derivation ahead that fails (parameters restic refuses) fails nobody; the opening reports it itself.
    deriveUserKeyAhead("right", salt, { N: 1000, r: 8, p: 1 });
    expect((await failure(deriveUserKey("right", salt, { N: 1000, r: 8, p: 1 })))?.message).toMatch(/power of two/);
    dropUserKeyAhead();
  });

  it("formats times as Go's RFC3339Nano", () => {
    expect(goTimeUtc(new Date("2024-01-02T03:04:05.000Z"))).toBe("2024-01-02T03:04:05Z");
    expect(goTimeUtc(new Date("2024-01-02T03:04:05.120Z"))).toBe("2024-01-02T03:04:05.12Z");
  });

  it("refuses a folder that is not a repository, and changes nothing there", async () => {
    const dir = await tmp("not-a-repo");
    await mkdir(path.join(dir, "keys"));
    await writeFile(path.join(dir, "snapshot.tar.zst.age"), "x");
    const storage = new DirStorage(dir);
    expect(await hasConfig(storage)).toBe(false);
    await expect(searchKey(storage, "pw")).rejects.toBeInstanceOf(NotARepositoryError);
    await expect(loadConfig(storage, newRandomKey())).rejects.toThrow(/no restic repository .* \(no config file\)/);
    expect(await readdir(dir)).toEqual(["keys", "snapshot.tar.zst.age"]);
  });
});
