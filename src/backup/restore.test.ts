import { describe, expect, it } from "vitest";
import { defaultRestoreDir, pathFilter } from "./restore.js";

describe("restore options", () => {
  it("--path selects entries matching a glob or lying under a matching folder", () => {
    const f = pathFilter(["workspace/memory", "state/*.json"]);
    expect(f("workspace/memory")).toBe(true);
    expect(f("workspace/memory/2026-01-01.md")).toBe(true);
    expect(f("workspace/notes.md")).toBe(false);
    expect(f("state/openclaw.json")).toBe(true);
    expect(f("state/agents/x.json")).toBe(false);
    expect(pathFilter(undefined)("anything")).toBe(true);
  });

  it("defaults to a fresh folder under the state dir, never the live workspace", () => {
    expect(defaultRestoreDir("/s", "backup-20260310T020000Z-0123abcd.tar.zst.age", new Date("2026-03-11T00:00:00Z"))).toBe(
      "/s/workspace-sync/restore/backup-20260310T020000Z-0123abcd-restored-20260311T000000Z",
    );
  });
});
