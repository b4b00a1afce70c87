import { describe, expect, it } from "vitest";
import { safeRelative } from "./safe-path.js";

/** The rule spelt out the long way (split, drop empty and "." segments, refuse ".."), as the fast path must answer. */
function reference(p: string): ReturnType<typeof safeRelative> {
  if (p.includes("\0")) return { reason: "NUL in path" };
  if (p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith("\\")) return { reason: "absolute path" };
  const parts = p.split(/\/+/).filter((s) => s !== "" && s !== ".");
  if (parts.includes("..")) return { reason: '".." segment' };
  if (parts.length === 0) return { reason: "empty path" };
  return { rel: parts.join("/") };
}

describe("safeRelative", () => {
  it("cleans and refuses as documented", () => {
    expect(safeRelative("workspace/notes/a.md")).toEqual({ rel: "workspace/notes/a.md" });
    expect(safeRelative("a//b/./c/")).toEqual({ rel: "a/b/c" });
    expect(safeRelative("./a")).toEqual({ rel: "a" });
    expect(safeRelative("a/../b").reason).toBe('".." segment');
    expect(safeRelative("/etc/passwd").reason).toBe("absolute path");
    expect(safeRelative("C:/x").reason).toBe("absolute path");
    expect(safeRelative("\\x").reason).toBe("absolute path");
    expect(safeRelative("a\0b").reason).toBe("NUL in path");
    expect(safeRelative("").reason).toBe("empty path");
    expect(safeRelative("./.").reason).toBe("empty path");
    expect(safeRelative("a/...").rel).toBe("a/..."); // three dots are a name
    expect(safeRelative("a\\..\\b").rel).toBe("a\\..\\b"); // on POSIX a backslash is part of a name
  });

  it("answers exactly as the long way for every path built from awkward pieces", () => {
    const pieces = ["a", "b.md", ".", "..", "", "...", ".a", "a.", "\\", "..\\x", "\0", "C:", "c:", " ", "é"];
    const seps = ["/", "//"];
    let n = 0;
    const build = (depth: number, prefix: string) => {
      for (const piece of pieces) {
        const p = prefix + piece;
        expect(safeRelative(p), JSON.stringify(p)).toEqual(reference(p));
        n++;
        if (depth > 0) for (const sep of seps) build(depth - 1, p + sep);
      }
    };
    build(2, "");
    for (const lead of ["/", "./", "../"]) build(1, lead);
    expect(n).toBeGreaterThan(4000);
  });
});
