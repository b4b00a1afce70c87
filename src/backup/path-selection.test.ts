import { describe, expect, it } from "vitest";
import { pathSelection } from "./path-selection.js";

/** Every folder on the way to `p` ("a/b/c" → "a", "a/b"). */
const parents = (p: string) => p.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"));

describe("--path selection", () => {
  it("selects entries matching a glob or lying under a matching folder", () => {
    const s = pathSelection(["workspace/memory", "state/*.json"]);
    expect(s.test("workspace/memory")).toBe(true);
    expect(s.test("workspace/memory/2026-01-01.md")).toBe(true);
    expect(s.test("workspace/notes.md")).toBe(false);
    expect(s.test("state/openclaw.json")).toBe(true);
    expect(s.test("state/agents/x.json")).toBe(false);
    expect(s.unmatched()).toEqual([]);
    expect(pathSelection(undefined).test("anything")).toBe(true);
  });

  it("names the globs that selected nothing", () => {
    const s = pathSelection(["workspace/memory", "nothing/*"]);
    s.test("workspace/memory/a.md");
    expect(s.unmatched()).toEqual(["nothing/*"]);
  });

  it("tells the folders no glob can reach", () => {
    const s = pathSelection(["workspace/media/m0.bin", "state/*.json"]);
    expect(s.mayContain("workspace")).toBe(true);
    expect(s.mayContain("workspace/media")).toBe(true);
    expect(s.mayContain("workspace/notes")).toBe(false);
    expect(s.mayContain("workspace/media/sub")).toBe(false);
    expect(s.mayContain("state")).toBe(true);
    expect(s.mayContain("state/agents")).toBe(false);
    expect(s.mayContain("config")).toBe(false);
    // Below a selected folder everything is selected.
    expect(pathSelection(["workspace/mem*"]).mayContain("workspace/memory/2026/01")).toBe(true);
    expect(pathSelection(["workspace/**/x.md"]).mayContain("workspace/a/b/c")).toBe(true);
    expect(pathSelection(["**/x.md"]).mayContain("anything/at/all")).toBe(true);
    expect(pathSelection(undefined).mayContain("x")).toBe(true);
  });

  it("never skips a folder for a glob whose shape it does not cut (braces, extglobs, negation, escapes)", () => {
    for (const g of ["workspace/{media,notes/a}", "workspace/+(a|b)", "!workspace/x", "work\\*space/x", "a/[/]b", "./workspace"]) {
      expect(pathSelection([g]).mayContain("elsewhere/deep/folder")).toBe(true);
    }
  });

  it("never prunes a folder on the way to a selected path", () => {
    const globs = [
      "workspace/media/m0.bin", "workspace/m*", "workspace/*/x.md", "*/notes", "state/*.json", "workspace/**/x.md", "**/deep",
      "workspace/a?c/*", "workspace/[ab]*/x.md", ".hidden/*", "workspace/.git", "workspace/notes/d00[0-3]/n1.md", "state",
    ];
    const names = ["workspace", "state", "config", "media", "notes", "m0.bin", "x.md", "abc", "a1c", "b", "deep", ".hidden", ".git", "d000", "d003", "d010", "n1.md"];
    const paths: string[] = [];
    const grow = (p: string, depth: number) => {
      for (const n of names) {
        const q = p ? `${p}/${n}` : n;
        paths.push(q);
        if (depth < 3) grow(q, depth + 1);
      }
    };
    grow("", 0);
    let selected = 0;
    for (const g of globs) {
      const s = pathSelection([g]);
      for (const p of paths) {
        if (!s.test(p)) continue;
        selected++;
        for (const d of [...parents(p), p]) expect(s.mayContain(d), `${g}: ${d} on the way to ${p}`).toBe(true);
      }
    }
    expect(selected).toBeGreaterThan(1000);
  });
});
