import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { BackendError } from "./errors.js";

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
    expect((await storage.list("data")).map((f) => f.name)).toEqual([pack]);
    expect(await storage.list("index")).toEqual([]);
    await storage.removeStaged();
    expect(await readdir(path.join(root, "data", "cd"))).toEqual([pack]);
    expect(await readdir(path.join(root, "index"))).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(["data", "index", "keys", "locks", "snapshots"]);
  });
});
