import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "./atomic-file.js";

/** A pid that certainly belonged to a process that has ended. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout.trim());
}

describe("writeFileAtomic", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("removes temp files a dead writer left beside the file, keeps a live writer's and unrelated files", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "atomic-"));
    const file = path.join(dir, "rclone.conf");
    const dead = `rclone.conf.${deadPid()}.0a1b2c3d.tmp`;
    const live = `rclone.conf.${process.ppid}.deadbeef.tmp`;
    for (const name of [dead, live, "other.conf.1.00.tmp", "rclone.conf.notes.tmp"]) await writeFile(path.join(dir, name), "");
    await writeFileAtomic(file, "[x]\n");
    expect(await readFile(file, "utf8")).toBe("[x]\n");
    expect((await readdir(dir)).sort()).toEqual(["other.conf.1.00.tmp", "rclone.conf", live, "rclone.conf.notes.tmp"].sort());
  });

  it("names the file it could not write, and leaves no temp file", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "atomic-"));
    await writeFile(path.join(dir, "blocker"), "");
    // A file where the parent folder should be: mkdir fails (ENOTDIR / EEXIST).
    const file = path.join(dir, "blocker", "state.json");
    await expect(writeFileAtomic(file, "{}")).rejects.toThrow(file);
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});
