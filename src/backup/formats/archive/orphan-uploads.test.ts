import { describe, expect, it } from "vitest";
import { resolveRemote } from "../../../rclone/remotes.js";
import { isOurUpload } from "./orphan-uploads.js";

const remote = resolveRemote({ provider: "local", remoteName: "cloud-backup", local: { path: "/srv/backups" } }, "bk", "/s/workspace-sync/rclone.conf");
const argv = (target: string, conf = "/s/workspace-sync/rclone.conf") => ["/usr/bin/rclone", "rcat", target, "--use-json-log", "--config", conf];

describe("orphaned uploads", () => {
  it("recognises an rcat of a snapshot or manifest into this repository through this state dir's rclone.conf", () => {
    expect(isOurUpload(argv(remote.path("backup-20260101T000000Z-0123abcd.tar.zst.age")), remote)).toBe(true);
    expect(isOurUpload(argv(remote.path("backup-20260101T000000Z-0123abcd.tar.zst.age.manifest.json")), remote)).toBe(true);
  });

  it("leaves every other rclone alone", () => {
    expect(isOurUpload(argv(remote.path("backup-family-photos.zip")), remote)).toBe(false);
    expect(isOurUpload(argv(remote.path("backup-20260101T000000Z-0123abcd.tar.zst.age"), "/other/rclone.conf"), remote)).toBe(false);
    expect(isOurUpload(["/usr/bin/rclone", "cat", remote.path("backup-20260101T000000Z-0123abcd.tar.zst.age"), "--config", "/s/workspace-sync/rclone.conf"], remote)).toBe(false);
    expect(isOurUpload(argv(`${remote.path("sub")}/backup-20260101T000000Z-0123abcd.tar.zst.age`), remote)).toBe(false);
  });
});
