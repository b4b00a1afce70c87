import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { BackendError, NotFoundError } from "./errors.js";

const tmp = () => mkdtemp(path.join(os.tmpdir(), "dir-storage-"));

describe("DirStorage", () => {
  it("names the file and the folder (by its display name) when the file system refuses a write; no temporary file stays", async () => {
    const root = await tmp();
    const storage = new DirStorage(root, "local:/backups");
    await storage.create();
    // snapshots/ replaced by a file: the write cannot happen.
    await rm(path.join(root, "snapshots"), { recursive: true });
    await writeFile(path.join(root, "snapshots"), "not a folder");
    const err = await storage.save("snapshots", "ab".repeat(32), Buffer.from("x")).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toMatch(/^storing snapshots\/abab\S+ in local:\/backups failed: /);
    expect((err as BackendError).transient).toBe(false);
    expect((await readdir(root)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("removeStaged deletes the temporary files a killed writer left, nothing else; listings never show them", async () => {
    const root = await tmp();
    const storage = new DirStorage(root);
    await storage.create();
    const pack = "cd".repeat(32);
    await storage.save("data", pack, Buffer.from("pack"));
    await writeFile(path.join(root, "data", "cd", `${pack}.0a1b2c.tmp`), "half");
    await mkdir(path.join(root, "index"), { recursive: true });
    await writeFile(path.join(root, "index", `${"ef".repeat(32)}.0a1b2c.tmp`), "half");
    await writeFile(path.join(root, "config.0a1b2c.tmp"), "half");
    await writeFile(path.join(root, "data", "0a1b2c3d4e5f6a7b.tmp"), "a staged pack");
    expect((await storage.list("data")).map((f) => f.name)).toEqual([pack]);
    expect(await storage.list("index")).toEqual([]);
    await storage.removeStaged();
    expect(await readdir(path.join(root, "data", "cd"))).toEqual([pack]);
    expect((await readdir(path.join(root, "data"))).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(await readdir(path.join(root, "index"))).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(["data", "index", "keys", "locks", "snapshots"]);
  });

  it("a staged file is written as it is appended, invisible to listings, and appears under its final name only on commit", async () => {
    const root = await tmp();
    const storage = new DirStorage(root);
    await storage.create();
    const staged = storage.stage("data")!;
    const parts = [Buffer.alloc(200_000, 1), Buffer.from("small"), Buffer.alloc(300_000, 2)];
    for (const p of parts) staged.append(Buffer.from(p));
    await staged.wait(0);
    expect(staged.pending).toBe(0);
    const temps = (await readdir(path.join(root, "data"))).filter((n) => n.endsWith(".tmp"));
    expect(temps).toHaveLength(1);
    expect((await stat(path.join(root, "data", temps[0]!))).size).toBe(500_005);
    expect(await storage.list("data")).toEqual([]);
    const name = "ab".repeat(32);
    await staged.commit("data", name);
    expect((await storage.load("data", name)).equals(Buffer.concat(parts))).toBe(true);
    expect((await stat(path.join(root, "data", "ab", name))).mode & 0o777).toBe(0o600);
    expect((await readdir(path.join(root, "data"))).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(() => staged.append(Buffer.from("late"))).toThrow(/after commit/);
  });

  it("a pack staged before the repository's folders exist (a first backup's init still running) is written all the same", async () => {
    const root = await tmp();
    const storage = new DirStorage(root);
    const staged = storage.stage("data")!; // no create() yet: data/ is not there
    staged.append(Buffer.alloc(100_000, 7));
    await staged.wait(0);
    await storage.create(); // the init catches up, the folder already made
    const name = "ef".repeat(32);
    await staged.commit("data", name);
    expect((await storage.load("data", name)).equals(Buffer.alloc(100_000, 7))).toBe(true);
    expect((await stat(path.join(root, "data"))).mode & 0o777).toBe(0o700);
  });

  it("discard removes a staged file, also while writes are queued", async () => {
    const root = await tmp();
    const storage = new DirStorage(root);
    await storage.create();
    const staged = storage.stage("data")!;
    for (let i = 0; i < 20; i++) staged.append(Buffer.alloc(100_000, i));
    await staged.discard();
    await staged.discard();
    expect((await readdir(path.join(root, "data"))).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("a staged write the file system refuses is reported by wait() and commit() as a BackendError; nothing stays", async () => {
    const root = await tmp();
    const storage = new DirStorage(root, "local:/backups");
    await storage.create();
    // data/ replaced by a file: the staged file cannot be created.
    await rm(path.join(root, "data"), { recursive: true });
    await writeFile(path.join(root, "data"), "not a folder");
    const staged = storage.stage("data")!;
    staged.append(Buffer.alloc(100_000));
    const waited = await staged.wait(0).then(() => undefined, (e: unknown) => e);
    expect(waited).toBeInstanceOf(BackendError);
    expect((waited as BackendError).message).toMatch(/^writing a pack in local:\/backups failed: /);
    staged.append(Buffer.alloc(10)); // after a failure: dropped, never written
    await expect(staged.commit("data", "cd".repeat(32))).rejects.toBeInstanceOf(BackendError);
    expect((await readdir(root)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("reads byte ranges: exact bytes, short at the end of the file, and a missing file is 'not found'", async () => {
    const root = await tmp();
    const storage = new DirStorage(root);
    await storage.create();
    const name = "ab".repeat(32);
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    await storage.save("data", name, bytes);
    for (const [offset, length] of [[0, 1], [12_345, 100_000], [299_999, 1], [0, 300_000]] as const) {
      expect((await storage.load("data", name, { offset, length })).equals(bytes.subarray(offset, offset + length))).toBe(true);
    }
    expect((await storage.load("data", name, { offset: 299_000, length: 5_000 })).equals(bytes.subarray(299_000))).toBe(true);
    expect((await storage.load("data", name, { offset: 400_000, length: 10 })).length).toBe(0);
    const missing = await storage.load("data", "cd".repeat(32), { offset: 0, length: 10 }).then(() => undefined, (e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as Error).message).toContain("does not exist");
    await rm(root, { recursive: true, force: true });
  });
});
