import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopAll, tempDir } from "../../../../test/helpers/servers.js";
import { restic, resticInit } from "../../../../test/support/restic-oracle.js";
import { DirStorage } from "./backend-dir.js";
import { hasConfig, loadConfig } from "./config.js";
import { newRandomKey } from "./crypto.js";
import { NotARepositoryError, WrongPasswordError } from "./errors.js";
import { hashId } from "./ids.js";
import { addKey, calibrateKdf, checkKdfParams, DEFAULT_KDF, deriveUserKey, goTimeUtc, loadKeyFile, makeKeyFile, searchKey } from "./key.js";
import { isIrreducible } from "./polynomial.js";

const PASSWORD = "correct horse battery staple";

describe("key files", () => {
  let repo: string;
  beforeAll(async () => {
    repo = path.join(await tempDir("restic-key"), "repo");
    await resticInit(repo, PASSWORD);
  });
  afterAll(() => stopAll());

  it("opens a repository restic created, and its config", async () => {
    const storage = new DirStorage(repo);
    expect(await hasConfig(storage)).toBe(true);
    const key = await searchKey(storage, PASSWORD);
    const keyDoc = JSON.parse(await readFile(path.join(repo, "keys", key.id), "utf8")) as Record<string, unknown>;
    expect(Object.keys(keyDoc)).toEqual(["created", "username", "hostname", "kdf", "N", "r", "p", "salt", "data"]);
    expect(Buffer.from(keyDoc.salt as string, "base64").length).toBe(64);
    const cfg = await loadConfig(storage, key.master);
    expect(cfg.version).toBe(2);
    expect(isIrreducible(cfg.chunkerPolynomial)).toBe(true);
    const catConfig = JSON.parse((await restic(["cat", "config"], { repo, password: PASSWORD })).stdout) as { id: string; chunker_polynomial: string };
    expect(cfg.id).toBe(catConfig.id);
    expect(cfg.chunkerPolynomial.toString(16)).toBe(catConfig.chunker_polynomial);
  });

  it("says 'wrong password' without echoing it", async () => {
    const err = await searchKey(new DirStorage(repo), "not the password").catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(WrongPasswordError);
    expect(err.message).toMatch(/wrong password: none of the 1 key file/);
    expect(err.message).not.toContain("not the password");
  });

  it("adds a second key that restic accepts, and opens with either", async () => {
    const storage = new DirStorage(repo);
    const first = await searchKey(storage, PASSWORD);
    const second = "a random repository password for recipients";
    const id = await addKey(storage, second, first.master, { params: DEFAULT_KDF });
    const opened = await searchKey(storage, second, { hint: id });
    expect(opened.id).toBe(id);
    expect(opened.master.encrypt.equals(first.master.encrypt)).toBe(true);
    const listed = await restic(["key", "list"], { repo, password: second });
    expect(listed.stdout).toContain(id.slice(0, 8));
    await restic(["cat", "config"], { repo, password: second });
  });

  it("reads key files with any valid p, and hashes the file to its name", async () => {
    const storage = new DirStorage(repo);
    const first = await searchKey(storage, PASSWORD);
    const made = await makeKeyFile("p three", first.master, { N: 1024, r: 8, p: 3 });
    expect(made.id).toBe(hashId(made.bytes));
    await storage.save("keys", made.id, made.bytes);
    expect((await searchKey(storage, "p three")).id).toBe(made.id);
    await restic(["cat", "config"], { repo, password: "p three" });
    // A tampered key file is named and skipped while another key opens.
    const tampered = Buffer.from(made.bytes.toString().replace('"p":3', '"p":4'));
    await writeFile(path.join(repo, "keys", made.id), tampered);
    await expect(loadKeyFile(storage, made.id)).rejects.toThrow(`keys/${made.id} does not match its name`);
    const err = await searchKey(storage, "p three").catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(WrongPasswordError);
    expect(err.message).toContain("damaged");
    expect((await searchKey(storage, PASSWORD)).id).toBe(first.id);
  });

  it("checks scrypt parameters and the salt as restic does", async () => {
    expect(() => checkKdfParams({ N: 1000, r: 8, p: 1 })).toThrow(/power of two/);
    expect(() => checkKdfParams({ N: 1024, r: 0, p: 1 })).toThrow(/positive/);
    expect(() => checkKdfParams({ N: 2 ** 24, r: 8, p: 1 })).toThrow(/out of range|1 GiB/);
    await expect(deriveUserKey("x", Buffer.alloc(32), DEFAULT_KDF)).rejects.toThrow(/salt is 32 bytes; restic requires 64/);
    const cal = await calibrateKdf();
    expect(cal.r).toBe(8);
    expect(cal.N).toBeLessThanOrEqual(32768);
    expect(cal.p).toBeGreaterThanOrEqual(1);
  });

  it("formats times as Go's RFC3339Nano", () => {
    expect(goTimeUtc(new Date("2024-01-02T03:04:05.000Z"))).toBe("2024-01-02T03:04:05Z");
    expect(goTimeUtc(new Date("2024-01-02T03:04:05.120Z"))).toBe("2024-01-02T03:04:05.12Z");
  });

  it("refuses a folder that is not a repository", async () => {
    const dir = await tempDir("not-a-repo");
    await mkdir(path.join(dir, "keys"));
    await writeFile(path.join(dir, "snapshot.tar.zst.age"), "x");
    const storage = new DirStorage(dir);
    expect(await hasConfig(storage)).toBe(false);
    await expect(searchKey(storage, PASSWORD)).rejects.toBeInstanceOf(NotARepositoryError);
    await expect(loadConfig(storage, newRandomKey())).rejects.toThrow(/no restic repository .* \(no config file\)/);
    expect(await readdir(dir)).toEqual(["keys", "snapshot.tar.zst.age"]);
  });
});
