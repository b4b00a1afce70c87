import { describe, expect, it } from "vitest";
import type { SnapshotList } from "../backup/index.js";
import { describeBackup, formatList, formatPrune, formatRestore, formatVerify } from "./backup.js";

const group = { key: "3fa2c1d0", host: "gw", paths: ["/s", "/s/workspace"] };
const list = (over: Partial<SnapshotList>): SnapshotList => ({
  repository: "local:/r",
  group,
  showing: { scope: "group" },
  snapshots: [],
  legacy: [],
  damaged: [],
  hidden: 0,
  leftovers: 0,
  foreign: 0,
  ...over,
});

describe("backup reports", () => {
  it("summarises runs for people", () => {
    const base = { durationMs: 1500, missing: [], missingItems: [], pruned: [], cleaned: [], warnings: [] };
    expect(describeBackup({ ...base, snapshot: "backup-X", short_id: "0123abcd", files: 3, bytes: 2048, storedBytes: 1024, pruned: ["old"], cleaned: ["left"] })).toEqual([
      "removed 1 leftover object(s) of interrupted backups",
      "snapshot backup-X committed (ID 0123abcd): 3 files, 2.0 KiB archived, 1.0 KiB stored, in 1.5s",
      "retention removed 1 snapshot(s): old",
    ]);
    expect(describeBackup({ ...base, skipped: true, reason: "nothing changed" })).toEqual(["backup skipped: nothing changed"]);
    // A missing item is told once: when the previous snapshot of the group had it (or there was none), not again after.
    const run = { ...base, snapshot: "backup-X", short_id: "0123abcd", files: 3, bytes: 2048, storedBytes: 1024, missingItems: ["cron", "skills"] };
    expect(describeBackup({ ...run, newlyMissing: ["skills"] })[1]).toBe("not found on this install (recorded in the snapshot): skills");
    expect(describeBackup({ ...run, newlyMissing: [] })).toHaveLength(1);
    expect(describeBackup(run)[1]).toBe("not found on this install (recorded in the snapshot): cron, skills");
    // A repository snapshot is named by its ID: people see the short ID alone, as restic shows it.
    const id = "6d6796b8950249c7a06a2d904a7ba76b53c8552bffbcd0830e82ef1fbedb1867";
    expect(describeBackup({ ...base, snapshot: id, short_id: "6d6796b8", files: 3, bytes: 2048, storedBytes: 1024 })).toEqual([
      "snapshot 6d6796b8 committed: 3 files, 2.0 KiB archived, 1.0 KiB stored, in 1.5s",
    ]);
    expect(formatVerify([{ snapshot: id, short_id: "6d6796b8", legacy: false, ok: false, error: "boom" }])).toEqual(["FAILED 6d6796b8: boom"]);
    expect(formatList(list({ damaged: [{ name: "b", problem: "gone" }], leftovers: 2, foreign: 1 }))).toEqual([
      "repository: local:/r",
      "group 3fa2c1d0 (this install): host gw, paths /s, /s/workspace",
      "no snapshots yet",
      "DAMAGED b: gone",
      "(2 leftover object(s) of interrupted runs; the next backup or prune removes them)",
      "(1 object(s) named like snapshots but not written by this install: left alone)",
    ]);
    expect(formatVerify([{ snapshot: "s", short_id: "0123abcd", legacy: false, ok: false, error: "boom" }])).toEqual(["FAILED s [0123abcd]: boom"]);
    // What a data-reading verify says it read: the stored object (archive), or the packs (repository: no one object).
    expect(formatVerify([{ snapshot: "a.tar.zst.age", short_id: "0123abcd", legacy: false, ok: true, readData: true, files: 5, bytes: 2048, storedBytes: 1024 }])).toEqual([
      "ok a.tar.zst.age [0123abcd]: 5 files, 2.0 KiB in 1.0 KiB stored",
    ]);
    expect(formatVerify([{ snapshot: "r", short_id: "0123abcd", legacy: false, ok: true, readData: true, files: 5, bytes: 884 }])).toEqual([
      "ok r [0123abcd]: 5 files, 884 B of file data, every pack it uses read back and checked",
    ]);
    expect(formatVerify([{ snapshot: "r", short_id: "0123abcd", legacy: false, ok: true, readData: true, subset: 0.125, files: 5, bytes: 884 }])).toEqual([
      "ok r [0123abcd]: 5 files, 884 B of file data, a random 12.5% of the packs read back and checked",
    ]);
    expect(formatVerify([{ snapshot: "s", short_id: "0123abcd", legacy: false, ok: true, forgotten: true }])).toEqual([
      "gone s [0123abcd]: forgotten after this verify listed it (a forget or another run's retention): nothing to check",
    ]);
    expect(formatPrune({ dryRun: true, keep: [{ name: "k", id: "ab".repeat(32), short_id: "abababab", reasons: ["newest"] }], remove: ["r"], leftovers: [], waiting: [], foreign: [], data: [], errors: [] })).toEqual([
      "retention would remove 1 snapshot(s): r; keeping 1 (this install's group only)",
      "  keep abababab k (newest)",
    ]);
    const restore = formatRestore({
      snapshot: "s",
      id: "ab".repeat(32),
      short_id: "abababab",
      format: "archive",
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

  it("says which group a list shows, and what it hides", () => {
    const s = { id: "ab".repeat(32), short_id: "abababab", name: "backup-1", format: "archive", created: "2026-01-01T00:00:00.000Z", host: "gw", agent: "main", paths: group.paths, group: group.key, files: 2, storedBytes: 2048, encryption: "none", items: ["workspace"], missing: [] };
    expect(formatList(list({ snapshots: [s], hidden: 3 }))).toEqual([
      "repository: local:/r",
      "group 3fa2c1d0 (this install): host gw, paths /s, /s/workspace",
      "abababab  backup-1  2026-01-01T00:00:00Z  2 files  2.0 KiB  none  [workspace]",
      "(3 snapshot(s) of other groups — other hosts, agents or included paths — not shown: --all lists every group)",
    ]);
    expect(formatList(list({ showing: { scope: "all" }, snapshots: [{ ...s, host: "other" }] }))[2]).toBe(
      "abababab  backup-1  2026-01-01T00:00:00Z  2 files  2.0 KiB  none  [workspace]  other/main group 3fa2c1d0",
    );
  });

  it("says plainly when a dry run's list is cut, and how to see all", () => {
    const base = { snapshot: "s", id: "ab".repeat(32), short_id: "abababab", format: "archive", legacy: false, dryRun: true, files: 3, dirs: 0, symlinks: 0, bytes: 3, refused: [] };
    const lines = formatRestore({ ...base, entries: ["a", "b"], entriesTotal: 3 });
    expect(lines).toEqual(["dry run: s (abababab) would restore 3 files, 0 folders, 0 symlinks, 3 B", "  a", "  b", "  … the list is cut: 1 more path(s) of 3 not shown (`--json` lists every path)"]);
    expect(formatRestore({ ...base, entries: ["a", "b", "c"], entriesTotal: 3 }).join("\n")).not.toMatch(/cut/);
    // A repository snapshot (named by its ID) by its short ID alone.
    const repo = { ...base, snapshot: "ab".repeat(32), format: "repository", dryRun: false, target: "/t" };
    expect(formatRestore(repo)[0]).toBe("restored abababab to /t: 3 files, 0 folders, 0 symlinks, 3 B");
  });
});

describe("browsing reports", () => {
  it("ls -l reads like restic's long listing; modes include special bits", async () => {
    const { formatLsNode, modeString, lsNodeJson } = await import("./backup.js");
    expect(modeString({ type: "dir", mode: 0o755 })).toBe("drwxr-xr-x");
    expect(modeString({ type: "file", mode: 0o4755 })).toBe("-rwsr-xr-x");
    expect(modeString({ type: "dir", mode: 0o1777 })).toBe("drwxrwxrwt");
    expect(modeString({ type: "other", kind: "fifo", mode: 0o644 })).toBe("prw-r--r--");
    const line = formatLsNode({ path: "workspace/link", type: "symlink", size: 0, mode: 0o777, mtime: new Date(2026, 0, 2, 3, 4, 5), linkTarget: "a.md" }, true);
    expect(line).toBe("lrwxrwxrwx            0 2026-01-02 03:04:05 workspace/link -> a.md");
    expect(formatLsNode({ path: 'x/".."', type: "other", kind: "dir", size: 0, problem: 'invalid name ".."' }, false)).toBe('x/".."  (invalid name "..")');
    expect(lsNodeJson({ path: "w/a.md", type: "file", size: 3, mode: 0o644 })).toEqual({ struct_type: "node", name: "a.md", type: "file", path: "w/a.md", size: 3, mode: 0o644, permissions: "-rw-r--r--" });
  });
});
