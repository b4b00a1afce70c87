import { describe, expect, it } from "vitest";
import { extensionFor, formatOfExtension, manifestNameFor, newSnapshotName, parseOurName, snapshotOfManifest } from "./naming.js";

const AT = new Date("2026-03-10T02:00:00.123Z");

describe("snapshot names", () => {
  it("are time-sortable, carry the format, and stay unique within one second", () => {
    const names = new Set<string>();
    for (let i = 0; i < 500; i++) names.add(newSnapshotName(AT, "zstd", true, names));
    expect(names.size).toBe(500);
    for (const n of names) {
      expect(n).toMatch(/^backup-20260310T020000Z-[0-9a-f]{8}\.tar\.zst\.age$/);
      expect(parseOurName(n)?.time.toISOString()).toBe("2026-03-10T02:00:00.000Z");
    }
  });

  it("spell compression and encryption in the extension", () => {
    expect(extensionFor("zstd", true)).toBe("tar.zst.age");
    expect(extensionFor("gzip", false)).toBe("tar.gz");
    expect(extensionFor("none", true)).toBe("tar.age");
    expect(formatOfExtension("tar.gz.age")).toEqual({ compression: "gzip", encrypted: true });
  });

  it("ignore foreign files", () => {
    for (const n of ["backup-family-photos.zip", "backup-family-photos.tar.gz", "backup-2026.tar.gz", "notes.txt", "backup-20260310T020000Z-XYZ.tar.zst"]) {
      expect(parseOurName(n), n).toBeUndefined();
    }
  });

  it("pair manifests with their data object", () => {
    const n = "backup-20260310T020000Z-0123abcd.tar.zst.age";
    expect(snapshotOfManifest(manifestNameFor(n))).toBe(n);
    expect(snapshotOfManifest("backup-family-photos.zip.manifest.json")).toBeUndefined();
  });
});
