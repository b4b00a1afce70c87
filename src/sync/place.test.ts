import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
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
      const landed = await placeNoClobber(path.join(dir, "staging", "report.txt"), path.join(dir, "report.txt"));
      expect(path.basename(landed)).toBe(`report (${n}).txt`);
    }
    expect(await readFile(path.join(dir, "report.txt"), "utf8")).toBe("original");
    expect(await readFile(path.join(dir, "report (2).txt"), "utf8")).toBe("arrival 2");
  });
});
