import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitTarget, discardTarget, INCOMPLETE_MARKER, prepareTarget, STAGING_PREFIX } from "./restore-target.js";

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

  it("a new target appears only at the commit, in one rename of a hidden sibling staging folder", async () => {
    const target = path.join(root, "new");
    const t = await prepareTarget(target, false);
    expect(path.dirname(t.staging)).toBe(root);
    expect(path.basename(t.staging).startsWith(STAGING_PREFIX)).toBe(true);
    await writeFile(path.join(t.staging, "a.txt"), "a");
    expect(await readdir(root)).toEqual([path.basename(t.staging)]);
    await commitTarget(t);
    expect(await readdir(root)).toEqual(["new"]);
    expect(await readdir(target)).toEqual(["a.txt"]);
  });

  it("an existing target carries the marker until the last entry is in place; a failure removes it", async () => {
    const target = path.join(root, "t");
    await mkdir(target);
    const t = await prepareTarget(target, false);
    expect((await readdir(target)).sort()).toEqual([INCOMPLETE_MARKER, path.basename(t.staging)].sort());
    await discardTarget(t);
    expect(await readdir(target)).toEqual([]);
    const t2 = await prepareTarget(target, false);
    await writeFile(path.join(t2.staging, "a.txt"), "a");
    await commitTarget(t2);
    expect(await readdir(target)).toEqual(["a.txt"]);
  });

  it("an interrupted restore's leftovers (dead owner) do not block the next one; real content needs --force", async () => {
    const target = path.join(root, "t");
    const dead = `${STAGING_PREFIX}999999999-deadbeef`;
    await mkdir(path.join(target, dead, "workspace"), { recursive: true });
    await writeFile(path.join(target, INCOMPLETE_MARKER), "x");
    const t = await prepareTarget(target, false);
    expect(await readdir(target)).not.toContain(dead);
    await commitTarget(t);
    expect(await readdir(target)).toEqual([]);

    await writeFile(path.join(target, "half.txt"), "moved in before the kill");
    await writeFile(path.join(target, INCOMPLETE_MARKER), "x");
    await expect(prepareTarget(target, false)).rejects.toMatchObject({ exitCode: 2, message: /interrupted restore/ });
    const forced = await prepareTarget(target, true);
    await discardTarget(forced);
    expect(await readdir(target)).toContain(INCOMPLETE_MARKER); // still not a complete restore

    await mkdir(path.join(root, `${STAGING_PREFIX}999999999-cafe-new`));
    const beside = await prepareTarget(path.join(root, "new"), false);
    expect((await readdir(root)).filter((n) => n.startsWith(STAGING_PREFIX))).toEqual([path.basename(beside.staging)]);
  });
});
