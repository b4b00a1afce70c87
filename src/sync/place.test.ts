import { lstat, mkdir, mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { candidateName, placeNoClobber } from "./place.js";

describe("no-clobber placement", () => {
  it("names clashes like a desktop would", () => {
    expect(candidateName("report.pdf", 1)).toBe("report (1).pdf");
    expect(candidateName("archive.tar.gz", 2)).toBe("archive.tar (2).gz");
    expect(candidateName("README", 1)).toBe("README (1)");
    expect(candidateName(".env", 1)).toBe(".env (1)");
  });

  it("never overwrites: each arrival gets the next free name", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "place-"));
    await mkdir(path.join(dir, "staging"));
    await writeFile(path.join(dir, "report.txt"), "original");
    for (const n of [1, 2]) {
      await writeFile(path.join(dir, "staging", "report.txt"), `arrival ${n}`);
      const landed = await placeNoClobber(path.join(dir, "staging", "report.txt"), dir, "report.txt");
      expect(path.basename(landed)).toBe(`report (${n}).txt`);
    }
    expect(await readFile(path.join(dir, "report.txt"), "utf8")).toBe("original");
    expect(await readFile(path.join(dir, "report (2).txt"), "utf8")).toBe("arrival 2");
  });

  it("never writes through a symlink or into a file standing where a folder should be", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "place-"));
    const outside = path.join(dir, "outside");
    await mkdir(path.join(dir, "staging"), { recursive: true });
    await mkdir(outside);
    await mkdir(path.join(dir, "inbox"));
    await symlink(outside, path.join(dir, "inbox", "docs"));
    await writeFile(path.join(dir, "inbox", "notes"), "a file");
    await writeFile(path.join(dir, "staging", "a"), "A");
    await writeFile(path.join(dir, "staging", "b"), "B");
    const a = await placeNoClobber(path.join(dir, "staging", "a"), path.join(dir, "inbox"), "docs/x.txt");
    const b = await placeNoClobber(path.join(dir, "staging", "b"), path.join(dir, "inbox"), "notes/y.txt");
    expect(path.relative(dir, a)).toBe(path.join("inbox", "docs (1)", "x.txt"));
    expect(path.relative(dir, b)).toBe(path.join("inbox", "notes (1)", "y.txt"));
    expect((await lstat(path.join(dir, "inbox", "docs"))).isSymbolicLink()).toBe(true);
    await expect(lstat(path.join(outside, "x.txt"))).rejects.toThrow();
  });

  it("keeps a suffixed name within 255 bytes", () => {
    const long = `${"é".repeat(125)}.txt`; // 254 bytes
    const name = candidateName(long, 1);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name.endsWith(" (1).txt")).toBe(true);
  });
});
