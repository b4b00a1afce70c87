import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isDataVerify, isFirstBackup, isRestore, stateDirOf, wantsOneArena } from "./malloc-arena.js";

describe("malloc-arena: which runs restart", () => {
  it("finds the state dir the way the CLI does: --state-dir, then $OPENCLAW_STATE_DIR, then ~/.openclaw", () => {
    const env = { HOME: "/home/u", OPENCLAW_STATE_DIR: "/srv/state" };
    expect(stateDirOf(["backup", "now"], { HOME: "/home/u" })).toBe("/home/u/.openclaw");
    expect(stateDirOf(["backup", "now"], env)).toBe("/srv/state");
    expect(stateDirOf(["--state-dir", "/a", "backup", "now"], env)).toBe("/a");
    expect(stateDirOf(["backup", "now", "--state-dir=~/b"], env)).toBe("/home/u/b");
    expect(stateDirOf(["backup", "now", "--", "--state-dir", "/c"], env)).toBe("/srv/state");
  });

  it("is a first backup only for `backup now` without a committed snapshot in the backup state", () => {
    const state = mkdtempSync(path.join(os.tmpdir(), "arena-state-"));
    const env = { HOME: "/nowhere", OPENCLAW_STATE_DIR: state };
    expect(isFirstBackup(["backup", "now"], env)).toBe(true); // no state yet
    expect(isFirstBackup(["backup", "-q", "now"], env)).toBe(true);
    expect(isFirstBackup(["backup", "list"], env)).toBe(false);
    expect(isFirstBackup(["sync", "now"], env)).toBe(false);
    expect(isFirstBackup(["backup", "now", "--help"], env)).toBe(false);
    const file = path.join(state, "workspace-sync", "backup-state.json");
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pending: [], errors: [{ at: "x", message: "failed" }] }));
    expect(isFirstBackup(["backup", "now"], env)).toBe(true); // tried and failed: still the first
    writeFileSync(file, JSON.stringify({ lastSuccess: { snapshot: "abc" } }));
    expect(isFirstBackup(["backup", "now"], env)).toBe(false);
    writeFileSync(file, "{ not json");
    expect(isFirstBackup(["backup", "now"], env)).toBe(false); // unreadable: left as it is
  });

  it("restarts every restore that writes files, never its dry run, and never other commands", () => {
    const env = { HOME: "/nowhere", OPENCLAW_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), "arena-state-")) };
    expect(isRestore(["backup", "restore"])).toBe(true);
    expect(isRestore(["backup", "restore", "abcd1234", "--to", "/tmp/x", "-q"])).toBe(true);
    expect(isRestore(["--state-dir", "/s", "backup", "-v", "restore", "--path", "workspace/a"])).toBe(true);
    expect(isRestore(["backup", "restore", "--dry-run"])).toBe(false);
    expect(isRestore(["backup", "restore", "--help"])).toBe(false);
    expect(isRestore(["backup", "list"])).toBe(false);
    expect(isRestore(["sync", "restore"])).toBe(false);
    expect(wantsOneArena(["backup", "restore", "latest"], env)).toBe(true);
    expect(wantsOneArena(["backup", "now"], env)).toBe(true); // no state: a first backup
    expect(wantsOneArena(["backup", "verify"], env)).toBe(false);
    expect(wantsOneArena(["backup", "verify", "--read-data"], env)).toBe(true);
    expect(wantsOneArena(["backup", "verify", "--read-data", "--subset", "10%"], env)).toBe(true);
    expect(isDataVerify(["backup", "verify", "--read-data", "--help"])).toBe(false);
    expect(isDataVerify(["backup", "list", "--read-data"])).toBe(false);
  });
});
