import { describe, expect, it } from "vitest";
import type { StorageLocation } from "../rclone/location.js";
import { globEscape, type LocationFacts, planLocations, type Target } from "./locations.js";

const local = (p: string, keys = "sync.local.path or sync.remotePath"): Target => ({ loc: { storage: "local", path: p, transformed: false }, shown: p, keys });
const remote = (storage: string, p: string, keys: string, transformed = false): Target => ({
  loc: { storage, path: p, transformed } satisfies StorageLocation,
  shown: `${storage}:${p}`,
  keys,
});

function facts(extra: Partial<LocationFacts>): LocationFacts {
  return { workspace: "/data/ws", localRoot: "/data/ws", stateDir: "/home/u/.openclaw", state: [], home: "/home/u", mode: "mailbox", inbound: "_outbox", ...extra };
}

describe("location rules", () => {
  it("a sync folder that contains the workspace, is inside it, or contains the state dir is refused, naming both and the key", () => {
    const contains = planLocations(facts({ sync: local("/data") }));
    expect(contains.problems).toHaveLength(1);
    expect(contains.problems[0]!.message).toMatch(/sync folder \/data \(sync\.local\.path or sync\.remotePath\) contains the workspace \/data\/ws.*would delete the workspace itself/);
    expect(contains.problems[0]!.message).toMatch(/raising maxDelete would not help/);
    expect(planLocations(facts({ sync: local("/data/ws") })).problems[0]!.message).toMatch(/is the workspace itself/);
    expect(planLocations(facts({ sync: local("/data/ws/cloud/share") })).problems[0]!.message).toMatch(/inside the workspace \/data\/ws.*nested copy/);
    expect(planLocations(facts({ sync: local("/home/u") })).problems[0]!.message).toMatch(/home folder itself/);
    expect(planLocations(facts({ sync: local("/home") })).problems[0]!.message).toMatch(/system folder/);
    expect(planLocations(facts({ stateDir: "/srv/oc/state", sync: local("/srv/oc") })).problems[0]!.message).toMatch(/contains the OpenClaw state dir \/srv\/oc\/state/);
    expect(planLocations(facts({ sync: local("/mnt/nas/share") })).problems).toEqual([]);
  });

  it("a backup folder inside the workspace is refused for sync and backup runs", () => {
    const p = planLocations(facts({ backup: local("/data/ws/backups", "backup.local.path or backup.prefix") }));
    expect(p.problems).toEqual([{ stops: "both", message: expect.stringMatching(/backup folder \/data\/ws\/backups \(backup\.local\.path or backup\.prefix\) is inside the workspace \/data\/ws/) }]);
  });

  it("a backup folder inside (or equal to) the sync folder on the same storage is protected by a pattern", () => {
    const same = planLocations(facts({ sync: local("/mnt/f"), backup: local("/mnt/f", "backup.local.path") }));
    expect(same.problems).toEqual([]);
    expect(same.backupPatterns).toEqual(["/backup-*"]);
    // A restic repository cannot share the sync root: its data/, index/ … would mix with the workspace's names.
    const repo = planLocations(facts({ sync: local("/mnt/f"), backup: local("/mnt/f", "backup.local.path"), backupFormat: "repository" }));
    expect(repo.problems).toEqual([{ stops: "both", message: expect.stringMatching(/is the sync folder itself: a restic repository .* needs a folder of its own/) }]);
    const repoBelow = planLocations(facts({ sync: local("/mnt/f"), backup: local("/mnt/f/backups", "backup.prefix"), backupFormat: "repository" }));
    expect(repoBelow.problems).toEqual([]);
    expect(repoBelow.backupPatterns).toEqual(["/backups/**"]);
    const below = planLocations(facts({ sync: remote("sftp|host=h", "share", "sync.remotePath"), backup: remote("sftp|host=h", "share/old [1]/bk", "backup.prefix") }));
    expect(below.backupPatterns).toEqual(["/old \\[1\\]/bk/**"]);
    const elsewhere = planLocations(facts({ sync: remote("sftp|host=h", "share", "sync.remotePath"), backup: remote("sftp|host=other", "share/bk", "backup.prefix") }));
    expect(elsewhere.backupPatterns).toEqual([]);
    const beside = planLocations(facts({ sync: remote("s3|endpoint=x", "bucket/share", "sync.remotePath"), backup: remote("s3|endpoint=x", "bucket/share-backups", "backup.prefix") }));
    expect(beside.backupPatterns).toEqual([]);
  });

  it("refuses when the protection is impossible: an encrypted sync folder, or the folder files come in through", () => {
    const crypt = planLocations(facts({ sync: remote("s3|e", "b/share", "sync.remotePath", true), backup: remote("s3|e", "b/share/bk", "backup.prefix") }));
    expect(crypt.problems[0]!.message).toMatch(/encrypts.*would delete them/);
    const outbox = planLocations(facts({ sync: local("/mnt/f"), backup: local("/mnt/f/_outbox/bk", "backup.prefix") }));
    expect(outbox.problems[0]!.message).toMatch(/_outbox\/ folder/);
  });

  it("OpenClaw's state inside the local sync root is kept out of every transfer", () => {
    const state = [
      { path: "/home/u/.openclaw/workspace-sync", dir: true },
      { path: "/home/u/.openclaw/openclaw.json", dir: false, siblings: true },
      { path: "/home/u/.openclaw/agents/*/agent", dir: true },
      { path: "/srv/keys/age.txt", dir: false },
    ];
    // The workspace is the home folder: the whole state dir is left out.
    const above = planLocations(facts({ workspace: "/home/u", localRoot: "/home/u", state }));
    expect(above.statePatterns).toEqual(["/.openclaw/**"]);
    // The workspace is the state dir itself: its secret entries are left out one by one.
    const same = planLocations(facts({ workspace: "/home/u/.openclaw", localRoot: "/home/u/.openclaw", state }));
    expect(same.statePatterns).toEqual(["/workspace-sync/**", "/openclaw.json", "/openclaw.json.*", "/agents/*/agent/**"]);
    // The default layout (workspace inside the state dir): nothing of the state is in the workspace.
    expect(planLocations(facts({ workspace: "/home/u/.openclaw/workspace", localRoot: "/home/u/.openclaw/workspace", state })).statePatterns).toEqual([]);
  });

  it("escapes glob characters in literal names", () => {
    expect(globEscape("a*b?[c]{d}\\e")).toBe("a\\*b\\?\\[c\\]\\{d\\}\\\\e");
  });
});
