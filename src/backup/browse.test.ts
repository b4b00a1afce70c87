import { describe, expect, it } from "vitest";
import { entryStream, normalizeSnapshotPath, shownPath } from "./browse.js";
import { isRemotePath } from "./export.js";
import { findMatcher } from "./find.js";
import type { SnapshotEntry, SnapshotReader } from "./formats/format.js";
import { lsDescend, lsFilter } from "./ls.js";
import { parseSubset } from "./verify.js";

function fakeReader(paths: string[], failAt?: number): SnapshotReader & { visited: string[] } {
  const visited: string[] = [];
  return {
    visited,
    async entries(visit) {
      for (const [i, p] of paths.entries()) {
        if (i === failAt) throw new Error("damaged at " + p);
        const e: SnapshotEntry = { path: p, type: "file", size: 1, content: async function* () {
          yield Buffer.from("x");
        } };
        await visit(e);
        visited.push(p);
      }
      return { storedBytes: paths.length };
    },
  };
}

describe("entryStream", () => {
  it("hands out every entry in order, each finished before the read moves on", async () => {
    const r = fakeReader(["a", "b", "c"]);
    const seen: string[] = [];
    for await (const e of entryStream(r)) {
      seen.push(`${e.path}:${r.visited.length}`);
      for await (const _ of e.content());
    }
    expect(seen).toEqual(["a:0", "b:1", "c:2"]);
  });

  it("a failed read throws after the entries before it; breaking out stops the read", async () => {
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const e of entryStream(fakeReader(["a", "b", "c"], 2))) seen.push(e.path);
      })(),
    ).rejects.toThrow("damaged at c");
    expect(seen).toEqual(["a", "b"]);
    const r = fakeReader(["a", "b", "c"]);
    for await (const e of entryStream(r)) if (e.path === "a") break;
    expect(r.visited).toEqual([]);
  });
});

describe("browse helpers", () => {
  it("ls PATH: the entry and a folder's direct entries; --recursive all below", () => {
    const f = lsFilter(["/workspace/memory/"], false);
    expect(["workspace/memory", "workspace/memory/a.md", "workspace/memory/2026", "workspace/memory/2026/x.md", "workspace/memoryx", "workspace"].filter(f)).toEqual([
      "workspace/memory",
      "workspace/memory/a.md",
      "workspace/memory/2026",
    ]);
    expect(lsFilter(["workspace/memory"], true)("workspace/memory/2026/x.md")).toBe(true);
    expect(lsFilter(undefined, false)("anything/at/all")).toBe(true);
  });

  it("ls PATH looks into the folders on the way and the PATH itself; --recursive also below it", () => {
    const d = lsDescend(["/workspace/memory/"], false);
    expect(["workspace", "workspace/memory", "workspace/memory/2026", "workspace/notes", "workspace/memoryx", "state"].filter(d)).toEqual([
      "workspace",
      "workspace/memory",
    ]);
    expect(lsDescend(["workspace/memory"], true)("workspace/memory/2026/01")).toBe(true);
    expect(lsDescend(["workspace/memory"], true)("workspace/notes")).toBe(false);
    expect(lsDescend(undefined, false)("anything")).toBe(true);
    expect(lsDescend(["/"], false)("anything")).toBe(true);
    // Every folder holding a shown entry is looked into (what the filter shows, the walk reaches).
    for (const recursive of [false, true]) {
      const shown = lsFilter(["workspace/memory"], recursive);
      const descend = lsDescend(["workspace/memory"], recursive);
      for (const p of ["workspace/memory", "workspace/memory/a.md", "workspace/memory/2026", "workspace/memory/2026/x.md"].filter(shown)) {
        const parts = p.split("/");
        for (let i = 1; i < parts.length; i++) expect(descend(parts.slice(0, i).join("/")), p).toBe(true);
      }
    }
  });

  it("find: a pattern without / matches names, with / whole paths; -i ignores case", () => {
    expect(findMatcher(["*.md"], false)("workspace/deep/notes.md")).toBe(true);
    expect(findMatcher(["*.md"], false)("workspace/deep/notes.MD")).toBe(false);
    expect(findMatcher(["*.md"], true)("workspace/deep/notes.MD")).toBe(true);
    expect(findMatcher(["/workspace/*/notes.md"], false)("workspace/deep/notes.md")).toBe(true);
    expect(findMatcher(["workspace/*.md"], false)("workspace/deep/notes.md")).toBe(false);
    expect(findMatcher(["workspace/**/*.md"], false)("workspace/deep/notes.md")).toBe(true);
  });

  it("paths as users type them; tar's trailing slash dropped", () => {
    expect(normalizeSnapshotPath("/workspace//memory/./")).toBe("workspace/memory");
    expect(shownPath("workspace/memory/")).toBe("workspace/memory");
    expect(shownPath("/")).toBe("/");
  });

  it("export --to: remote:path apart from local paths and drive letters", () => {
    expect(isRemotePath("cloud:cold/x.tar.zst.age")).toBe(true);
    expect(isRemotePath("my-s3:bucket/dir/")).toBe(true);
    expect(isRemotePath("/tmp/a:b")).toBe(false);
    expect(isRemotePath("./a:b")).toBe(false);
    expect(isRemotePath("C:\\\\backups\\\\x")).toBe(false);
    expect(isRemotePath("plain-file.tar.zst.age")).toBe(false);
  });

  it("--subset: a share of the data", () => {
    expect(parseSubset("10%")).toBe(0.1);
    expect(parseSubset("2.5%")).toBe(0.025);
    expect(parseSubset("0.5")).toBe(0.5);
    expect(parseSubset("100%")).toBe(1);
    for (const bad of ["0%", "150%", "abc", "-5%", "2"]) expect(() => parseSubset(bad)).toThrow(/--subset/);
  });
});
