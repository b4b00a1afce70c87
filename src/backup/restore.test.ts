import { describe, expect, it } from "vitest";
import { defaultRestoreDir } from "./restore.js";

describe("restore options", () => {
  it("defaults to a fresh folder under the state dir, never the live workspace", () => {
    expect(defaultRestoreDir("/s", "backup-20260310T020000Z-0123abcd.tar.zst.age", new Date("2026-03-11T00:00:00Z"))).toBe(
      "/s/workspace-sync/restore/backup-20260310T020000Z-0123abcd-restored-20260311T000000Z",
    );
  });
});
