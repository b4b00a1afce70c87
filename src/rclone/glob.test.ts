import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeExcluder } from "./glob.js";

const PATTERNS = ["**/.DS_Store", ".git/**", "node_modules/**", "**/__pycache__/**", ".env*", "*.log", "/_inbox/**", "/build/*.o", "data/{a,b}?.csv", "[x-z]*.tmp", "docs/*/draft.md", "id_*[^b]", "n[!o]te.txt"];
const FILES = [
  ".DS_Store", "a/.DS_Store", ".git/HEAD", "sub/.git/config", "node_modules/x/i.js", "pkg/node_modules/y.js",
  "src/__pycache__/m.pyc", ".env", ".env.local", "sub/.envrc", "x.log", "deep/y.log", "log.txt", "_inbox/r.txt",
  "sub/_inbox/r.txt", "build/a.o", "build/sub/b.o", "data/a1.csv", "data/c1.csv", "data/b22.csv", "y1.tmp",
  "a.tmp", "docs/v1/draft.md", "docs/v1/x/draft.md", "keep.md", "dir with space/file (1).txt", "id_rsa", "id_rsa.pub", "sub/id_ed25519",
  "note.txt", "n!te.txt", "nate.txt",
];

describe("rclone glob semantics", () => {
  it("matches what the real rclone includes/excludes for the same patterns", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "glob-"));
    for (const f of FILES) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), "x");
    }
    const args = ["lsf", "-R", "--files-only", root];
    for (const p of PATTERNS) args.push("--exclude", p);
    const rcloneKept = execFileSync("rclone", args).toString().split("\n").filter(Boolean).sort();
    const ex = makeExcluder(PATTERNS);
    const oursKept = FILES.filter((f) => !ex.file(f)).sort();
    expect(oursKept).toEqual(rcloneKept);
  });
});
