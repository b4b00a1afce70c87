import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { locatePath, realpathish, relativeWithin, within } from "./location.js";

const none = new Map<string, Record<string, string>>();

describe("where an rclone path really points", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("local paths go through symlinks, also for the part that does not exist yet", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "loc-"));
    await mkdir(path.join(dir, "real"));
    await symlink(path.join(dir, "real"), path.join(dir, "link"));
    expect(realpathish(path.join(dir, "link", "not", "yet"))).toBe(path.join(await import("node:fs/promises").then((f) => f.realpath(dir!)), "real", "not", "yet"));
    const a = locatePath(`cloud:${path.join(dir, "link")}/share`, { cloud: { type: "local" } }, none);
    const b = locatePath(`other:${path.join(dir, "real")}`, { other: { type: "local" } }, none);
    expect(a.storage).toBe("local");
    expect(within(a, b)).toBe(true);
    expect(relativeWithin(a, b)).toBe("share");
  });

  it("follows aliases (in the product's sections and the user's file) to their target, and records the folder an alias names", () => {
    const file = new Map([["nas", { type: "alias", remote: "/srv/nas/openclaw" }]]);
    const loc = locatePath("bk:backups", { bk: { type: "alias", remote: "nas:sub" } }, file);
    expect(loc).toMatchObject({ storage: "local", path: "/srv/nas/openclaw/sub/backups", transformed: false, anchor: "/srv/nas/openclaw" });
  });

  it("two sections reaching the same server are one storage; another user or host is another", () => {
    const a = locatePath("s1:share", { s1: { type: "sftp", host: "h", user: "u", pass: "x" } }, none);
    const b = locatePath("s2:share/backups", { s2: { type: "sftp", host: "h", user: "u", port: "22", key_file: "/k" } }, none);
    const c = locatePath("s3:share/backups", { s3: { type: "sftp", host: "h", user: "v" } }, none);
    expect(within(b, a)).toBe(true);
    expect(within(c, a)).toBe(false);
    const bucketA = locatePath("x:bucket/share", { x: { type: "s3", provider: "Other", endpoint: "http://127.0.0.1:9000/", access_key_id: "a" } }, none);
    const bucketB = locatePath("y:bucket", { y: { type: "s3", provider: "Other", endpoint: "http://127.0.0.1:9000", access_key_id: "b" } }, none);
    expect(within(bucketA, bucketB)).toBe(true);
  });

  it("a crypt remote is its underlying folder, marked transformed; an unknown section is its own storage", () => {
    const loc = locatePath("c:", { c: { type: "crypt", remote: "cloud:/mnt/nas/share" }, cloud: { type: "local" } }, none);
    expect(loc).toMatchObject({ storage: "local", path: "/mnt/nas/share", transformed: true });
    const a = locatePath("ghost:x", {}, none);
    const b = locatePath("ghost:x", {}, none);
    expect(a.storage).toMatch(/^unknown/);
    expect(within(a, b)).toBe(true);
    expect(within(a, locatePath("phantom:x", {}, none))).toBe(false);
  });

  it("on-the-fly remotes and plain paths", () => {
    expect(locatePath("/mnt/x", {}, none)).toMatchObject({ storage: "local", path: "/mnt/x" });
    expect(locatePath(":sftp,host=h,user=u:dir", {}, none).storage).toBe("sftp|host=h|port=22|user=u");
  });
});
