import { describe, expect, it } from "vitest";
import { describeBackup, formatList, formatPrune, formatRestore, formatVerify } from "./backup.js";

describe("backup reports", () => {
  it("summarises runs for people", () => {
    const base = { durationMs: 1500, missing: [], missingItems: [], pruned: [], cleaned: [], warnings: [] };
    expect(describeBackup({ ...base, snapshot: "backup-X", files: 3, bytes: 2048, storedBytes: 1024, pruned: ["old"], cleaned: ["left"] })).toEqual([
      "removed 1 leftover object(s) of interrupted backups",
      "snapshot backup-X committed: 3 files, 2.0 KiB archived, 1.0 KiB stored, in 1.5s",
      "retention removed 1 snapshot(s): old",
    ]);
    expect(describeBackup({ ...base, skipped: true, reason: "nothing changed" })).toEqual(["backup skipped: nothing changed"]);
    expect(formatList({ repository: "local:/r", snapshots: [], legacy: [], damaged: [{ name: "b", problem: "gone" }], leftovers: 2 })).toEqual([
      "repository: local:/r",
      "no snapshots yet",
      "DAMAGED b: gone",
      "(2 leftover object(s) of interrupted runs; the next backup or prune removes them)",
    ]);
    expect(formatVerify([{ snapshot: "s", legacy: false, ok: false, error: "boom" }])).toEqual(["FAILED s: boom"]);
    expect(formatPrune({ dryRun: true, keep: [{ name: "k", reasons: ["newest"] }], remove: ["r"], leftovers: [], waiting: [], errors: [] })[0]).toBe(
      "retention would remove 1 snapshot(s): r; keeping 1",
    );
    const restore = formatRestore({
      snapshot: "s",
      legacy: false,
      target: "/t",
      dryRun: false,
      files: 1,
      dirs: 1,
      symlinks: 0,
      bytes: 10,
      refused: [{ path: "../x", reason: '".." segment' }],
      diff: { same: 1, changed: ["workspace/a"], onlyInSnapshot: [], onlyLive: [] },
    });
    expect(restore).toContain('refused 1 unsafe entry: ../x (".." segment)');
    expect(restore).toContain("compared with the live locations: 1 unchanged, 1 differ, 0 only in the snapshot, 0 only live");
  });
});
