import { describe, expect, it } from "vitest";
import type { SyncConfig } from "../config/types.js";
import { findRclone, withVersion } from "../rclone/binary.js";
import { resolveRemote } from "../rclone/remotes.js";
import { silentLogger } from "../util/logger.js";
import { bisyncArgs } from "./bisync.js";
import { parseBisyncListing } from "./bisync-heal.js";
import type { SyncJob } from "./job.js";

async function job(version: string, conflictResolve: SyncConfig["conflictResolve"]): Promise<SyncJob> {
  const real = await findRclone();
  const config = { mode: "bisync", conflictResolve, maxDelete: 50, trashDays: 7, exclude: [], copySymlinks: false, timeout: 60 } as unknown as SyncConfig;
  return {
    bin: withVersion(real, version),
    config,
    workspaceDir: "/ws",
    localRoot: "/ws",
    remote: resolveRemote({ provider: "local", remoteName: "cloud", local: { path: "/remote" } }, "share", "/tmp/none.conf"),
    stateDir: "/state",
    protectedPatterns: [],
    env: {},
    log: silentLogger,
  };
}

describe("bisync flags per rclone version (detected version faked)", () => {
  it("rclone 1.60: no conflict/recovery flags — both versions are kept and listed", async () => {
    const args = bisyncArgs(await job("1.60.1", "newer"), {}, "/f");
    expect(args).not.toContain("--conflict-resolve");
    expect(args).not.toContain("--resilient");
    expect(args).not.toContain("--backup-dir1");
    expect(args).toEqual(expect.arrayContaining(["--workdir", "--filters-file", "--max-delete", "50"]));
  });
  it("rclone 1.66: conflictResolve maps to rclone's options, recovery and trash on both sides", async () => {
    for (const [ours, theirs] of [["newer", "newer"], ["local", "path1"], ["remote", "path2"]] as const) {
      const args = bisyncArgs(await job("1.66.0", ours), { resync: true }, "/f");
      expect(args[args.indexOf("--conflict-resolve") + 1]).toBe(theirs);
      expect(args).toEqual(expect.arrayContaining(["--resilient", "--recover", "--max-lock", "--backup-dir1", "--backup-dir2", "--resync"]));
    }
  });
});

describe("bisync listing parser", () => {
  it("reads rclone's listing lines", () => {
    const text = '# bisync listing v1 from x\n- 50000000 md5:68fb - 2026-11-24T19:35:48.408326678+0000 "big.bin"\n-        2 md5:40 - 2026-11-24T19:35:47.5+0000 "a \\"q\\".txt"\n';
    const m = parseBisyncListing(text);
    expect(m.get("big.bin")!.size).toBe(50000000);
    expect(m.get('a "q".txt')!.size).toBe(2);
  });
});
