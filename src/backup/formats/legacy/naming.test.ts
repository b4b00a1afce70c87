import { describe, expect, it } from "vitest";
import { parseOurName } from "../archive/naming.js";
import { parseLegacyName } from "./naming.js";

describe("legacy snapshot names", () => {
  it("tell legacy names apart exactly: our killed gzip run never passes for a legacy snapshot", () => {
    expect(parseLegacyName("backup-20260310T020000Z.tar.gz.enc")).toMatchObject({ encrypted: true });
    expect(parseLegacyName("backup-20260310T020000Z.tar.gz")).toMatchObject({ encrypted: false });
    expect(parseLegacyName("backup-20260310T020000Z-0123abcd.tar.gz")).toBeUndefined();
    expect(parseOurName("backup-20260310T020000Z-0123abcd.tar.gz")).toBeDefined();
  });

  it("ignore foreign files", () => {
    for (const n of ["backup-family-photos.zip", "backup-family-photos.tar.gz", "backup-2026.tar.gz", "notes.txt"]) expect(parseLegacyName(n), n).toBeUndefined();
  });
});
