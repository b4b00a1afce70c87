// The tree fingerprint is stored in the backup state and compared across versions: hashing lines in batches must give
// exactly the digest of hashing them one by one (a changed digest would make every install back up once more).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TreeFingerprint } from "./scan.js";
import type { WalkEntry } from "./tree-walk.js";

describe("TreeFingerprint", () => {
  it("is the SHA-256 of one line per entry, whatever the batching, non-ASCII names included", () => {
    const entries: WalkEntry[] = [];
    for (let i = 0; i < 5000; i++) {
      const type = i % 50 === 0 ? "dir" : i % 97 === 0 ? "symlink" : "file";
      entries.push({
        archivePath: `workspace/d${Math.floor(i / 50)}/ñame-${i}-${"é".repeat(i % 13)}.md`,
        absPath: `/x/${i}`,
        type,
        size: type === "file" ? i * 7 : 0,
        mode: 0o644,
        mtimeMs: 1_700_000_000_123.456 + i,
        ...(type === "symlink" ? { linkTarget: `../t${i}` } : {}),
      });
    }
    const fp = new TreeFingerprint();
    const oneByOne = createHash("sha256");
    for (const e of entries) {
      fp.update(e);
      const mtime = e.type === "dir" ? 0 : e.mtimeMs;
      oneByOne.update(`${e.type}\0${e.archivePath}\0${e.size}\0${mtime}\0${e.mode}\0${e.linkTarget ?? ""}\n`);
    }
    expect(fp.digest()).toBe(oneByOne.digest("hex"));
    expect(fp.files).toBe(entries.filter((e) => e.type === "file").length);
    expect(new TreeFingerprint().digest()).toBe(createHash("sha256").digest("hex"));
  });
});
