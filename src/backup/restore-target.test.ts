import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitTarget, discardTarget, prepareTarget } from "./restore-target.js";

let root: string;
beforeEach(async () => void (root = await mkdtemp(path.join(os.tmpdir(), "ws-target-"))));
afterEach(() => rm(root, { recursive: true, force: true }));

describe("restore target", () => {
  it("refuses a non-empty target without --force", async () => {
    await writeFile(path.join(root, "keep.txt"), "mine");
    await expect(prepareTarget(root, false)).rejects.toMatchObject({ exitCode: 2, message: /not empty/ });
  });

  it("a failed restore leaves nothing: staging and a created target are removed", async () => {
    const target = path.join(root, "new");
    const t = await prepareTarget(target, false);
    await writeFile(path.join(t.staging, "half.txt"), "half");
    await discardTarget(t);
    expect(await readdir(root)).toEqual([]);
  });

  it("commits by moving into place; with --force it merges and replaces without following symlinks", async () => {
    const outside = path.join(root, "outside.txt");
    await writeFile(outside, "untouched");
    const target = path.join(root, "t");
    await mkdir(path.join(target, "workspace"), { recursive: true });
    await writeFile(path.join(target, "workspace", "old.txt"), "old");
    await symlink(outside, path.join(target, "workspace", "a.txt"));
    const t = await prepareTarget(target, true);
    await mkdir(path.join(t.staging, "workspace"));
    await writeFile(path.join(t.staging, "workspace", "a.txt"), "restored");
    await commitTarget(t);
    expect(await readFile(path.join(target, "workspace", "a.txt"), "utf8")).toBe("restored");
    expect((await lstat(path.join(target, "workspace", "a.txt"))).isFile()).toBe(true);
    expect(await readFile(outside, "utf8")).toBe("untouched");
    expect(await readFile(path.join(target, "workspace", "old.txt"), "utf8")).toBe("old");
    expect((await readdir(target)).sort()).toEqual(["workspace"]);
  });
});
