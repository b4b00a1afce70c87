// The walk's order and entries, against a plain recursive walk written the obvious way (what the walk was before
// it kept its open folders on a stack): the same entries, in the same order, with the same paths and stats.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeExcluder } from "../rclone/glob.js";
import { type ArchiveItem, walkFolders, walkItems, type WalkEntry } from "./tree-walk.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "tree-walk-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The reference: recursion, path.join, a BigInt lstat per entry. */
function reference(item: ArchiveItem): Pick<WalkEntry, "archivePath" | "absPath" | "type" | "size" | "linkTarget">[] {
  const excluder = makeExcluder(item.exclude ?? []);
  const out: Pick<WalkEntry, "archivePath" | "absPath" | "type" | "size" | "linkTarget">[] = [];
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    const archivePath = rel ? `${item.name}/${rel}` : item.name;
    if (st.isSymbolicLink()) out.push({ archivePath, absPath: abs, type: "symlink", size: 0, linkTarget: readlinkSync(abs) });
    else if (st.isFile()) out.push({ archivePath, absPath: abs, type: "file", size: st.size });
    else if (st.isDirectory()) {
      out.push({ archivePath, absPath: abs, type: "dir", size: 0 });
      for (const name of readdirSync(abs).sort()) {
        const childRel = rel ? `${rel}/${name}` : name;
        const childAbs = path.join(abs, name);
        const cst = lstatSync(childAbs);
        if (cst.isDirectory() ? excluder.dir(childRel) || excluder.file(childRel) : excluder.file(childRel)) continue;
        visit(childAbs, childRel);
      }
    }
  };
  visit(item.root, "");
  return out;
}

async function walked(items: ArchiveItem[], stats = false): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  for await (const e of walkItems(items, { stats })) out.push(e);
  return out;
}

const pick = (e: WalkEntry) => ({ archivePath: e.archivePath, absPath: e.absPath, type: e.type, size: e.size, ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}) });

/** Folders several levels deep, empty folders, files beside folders, names that sort differently as bytes. */
function makeTree(at: string): void {
  let n = 0;
  const fill = (dir: string, depth: number) => {
    mkdirSync(dir, { recursive: true });
    for (const name of ["b.txt", "A.md", "a", "z z", "é.txt", "_x"]) {
      if (name === "a" || name === "_x") {
        if (depth < 3) fill(path.join(dir, name), depth + 1);
        else mkdirSync(path.join(dir, name));
      } else writeFileSync(path.join(dir, name), "x".repeat(n++ % 7));
    }
  };
  fill(at, 0);
  symlinkSync("b.txt", path.join(at, "a", "link"));
  symlinkSync("/nowhere/at/all", path.join(at, "dangling"));
  mkdirSync(path.join(at, "cache", "deep"), { recursive: true });
  writeFileSync(path.join(at, "cache", "deep", "f"), "f");
}

describe("walkItems", () => {
  it("yields what a recursive walk yields, in the same order, excludes applied", async () => {
    const ws = path.join(root, "ws");
    makeTree(ws);
    const item: ArchiveItem = { name: "workspace", root: ws, exclude: ["cache/**", "*.md"] };
    const ours = await walked([item]);
    expect(ours.map(pick)).toEqual(reference(item));
    expect(ours.length).toBeGreaterThan(60);
    expect(ours.some((e) => e.archivePath.endsWith(".md") || e.archivePath.includes("/cache/"))).toBe(false);
    expect(ours.find((e) => e.archivePath === "workspace/a/link")?.linkTarget).toBe("b.txt");
  });

  it("gives every entry its exact lstat when asked, and a root with a trailing separator the same paths", async () => {
    const ws = path.join(root, "ws");
    makeTree(ws);
    const plain = await walked([{ name: "w", root: ws }], true);
    const slashed = await walked([{ name: "w", root: `${ws}${path.sep}` }], true);
    expect(slashed.slice(1).map((e) => e.absPath)).toEqual(plain.slice(1).map((e) => e.absPath));
    for (const e of plain) {
      const st = lstatSync(e.absPath, { bigint: true });
      expect(e.stats).toMatchObject({ ino: st.ino, mtimeNs: st.mtimeNs, size: Number(st.size), mode: Number(st.mode) });
      expect(e.mode).toBe(Number(st.mode) & 0o7777);
    }
  });

  it("hands out a folder turned down by `descend` without reading what it holds", async () => {
    const ws = path.join(root, "ws");
    makeTree(ws);
    const item: ArchiveItem = { name: "workspace", root: ws };
    const all = await walked([item]);
    const descend = (p: string) => p !== "workspace/cache" && p !== "workspace/a";
    const asked: string[] = [];
    const pruned: WalkEntry[] = [];
    for await (const e of walkItems([item], { descend: (p) => (asked.push(p), descend(p)) })) pruned.push(e);
    const under = (e: WalkEntry, d: string) => e.archivePath.startsWith(`${d}/`);
    expect(pruned.map(pick)).toEqual(all.filter((e) => !under(e, "workspace/cache") && !under(e, "workspace/a")).map(pick));
    expect(pruned.some((e) => e.archivePath === "workspace/cache" && e.type === "dir")).toBe(true);
    expect(asked).toEqual(all.filter((e) => e.type === "dir" && !under(e, "workspace/cache") && !under(e, "workspace/a")).map((e) => e.archivePath));
  });

  it("walks several items one after the other, a single file as an item, and skips a missing root", async () => {
    const ws = path.join(root, "ws");
    makeTree(ws);
    writeFileSync(path.join(root, "single.json"), "{}");
    const items: ArchiveItem[] = [
      { name: "config/single.json", root: path.join(root, "single.json") },
      { name: "gone", root: path.join(root, "missing") },
      { name: "workspace", root: path.join(ws, "a") },
    ];
    const ours = await walked(items);
    expect(ours.map(pick)).toEqual([...reference(items[0]!), ...reference(items[2]!)]);
    expect(ours[0]).toMatchObject({ archivePath: "config/single.json", type: "file", size: 2 });
  });

  it("walkFolders: exactly the folders of the whole walk, same order, paths and modes, symlinked folders not followed", async () => {
    const ws = path.join(root, "ws");
    makeTree(ws);
    mkdirSync(path.join(ws, "a", "skipme"));
    symlinkSync(path.join(ws, "a"), path.join(ws, "to-a")); // a symlink to a folder stays a symlink
    writeFileSync(path.join(root, "single.json"), "{}");
    const items: ArchiveItem[] = [
      { name: "config/single.json", root: path.join(root, "single.json") },
      { name: "workspace", root: ws, exclude: ["cache/**", "a/skipme/**"] },
    ];
    const folders: WalkEntry[] = [];
    for await (const f of walkFolders(items)) folders.push(f);
    const dirs = (await walked(items)).filter((e) => e.type === "dir");
    expect(folders.map((f) => ({ ...pick(f), mode: f.mode, mtimeMs: f.mtimeMs }))).toEqual(dirs.map((d) => ({ ...pick(d), mode: d.mode, mtimeMs: d.mtimeMs })));
    expect(folders.length).toBeGreaterThan(10);
    const paths = folders.map((f) => f.archivePath);
    expect(paths.filter((p) => p.includes("cache/") || p.includes("skipme/") || p.endsWith("to-a"))).toEqual([]);
    expect(paths).toContain("workspace/a/a");
  });
});
