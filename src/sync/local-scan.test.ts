import { mkdir, mkdtemp, stat, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scanLocal, scanTree } from "./local-scan.js";
import { makeExcluder } from "../rclone/glob.js";

describe("local scan", () => {
  it("find-based and walk-based scans agree exactly (excludes, symlinks, odd names, mtimes)", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "scan-"));
    const files = ["a.txt", "sub/b.txt", "node_modules/x/i.js", "deep/node_modules/y.js", "_inbox/r.txt", "x/_inbox/kept.txt", "n\nl.txt", "spa ce/ü.md", "k.log", ".git/HEAD"];
    for (const f of files) {
      await mkdir(path.dirname(path.join(root, f)), { recursive: true });
      await writeFile(path.join(root, f), f);
    }
    await symlink("a.txt", path.join(root, "link"));
    await symlink("sub", path.join(root, "dirlink"));
    const patterns = ["node_modules/**", "/_inbox/**", "*.log", ".git/**"];
    for (const followSymlinks of [false, true]) {
      const viaFind = await scanLocal(root, makeExcluder(patterns), { followSymlinks, patterns });
      const viaWalk = await scanLocal(root, makeExcluder(patterns), { followSymlinks });
      expect([...viaFind.entries()].sort()).toEqual([...viaWalk.entries()].sort());
      expect(viaWalk.has("x/_inbox/kept.txt")).toBe(true);
      expect(viaWalk.has("deep/node_modules/y.js")).toBe(false);
      expect(viaWalk.has("link")).toBe(followSymlinks);
      expect(viaWalk.has("dirlink/b.txt")).toBe(followSymlinks);
    }
  });

  it("the listing digest changes with any size, mtime or path change and only then", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "scan-digest-"));
    await mkdir(path.join(root, "d"));
    await writeFile(path.join(root, "d", "a.txt"), "aaaa");
    await writeFile(path.join(root, "b.txt"), "bb");
    const opts = { followSymlinks: false, patterns: ["*.log"] };
    const digest = async () => (await scanTree(root, makeExcluder(opts.patterns), opts)).digest;
    const first = await digest();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await digest()).toBe(first);
    // Same size, new content, mtime moved by one millisecond: a different listing.
    const st = await stat(path.join(root, "b.txt"));
    await writeFile(path.join(root, "b.txt"), "cc");
    await utimes(path.join(root, "b.txt"), st.atime, new Date(st.mtimeMs + 1));
    const touched = await digest();
    expect(touched).not.toBe(first);
    await writeFile(path.join(root, "c.txt"), "");
    expect(await digest()).not.toBe(touched);
    // The portable walk has no digest: callers then compare file by file.
    expect((await scanTree(root, makeExcluder([]), { followSymlinks: false })).digest).toBeUndefined();
  });
});
