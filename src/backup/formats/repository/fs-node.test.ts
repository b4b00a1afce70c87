import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { lstat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryStats } from "../../tree-walk.js";
import { AccountNames, baseNameBytes, goFileMode, nodeFromPath, nodeFromStats, nodeTypeOf, posixModeFromGo } from "./fs-node.js";
import { formatRfc3339Nano } from "./go-time.js";
import { GoMode, encodeNode } from "./node.js";
import { type ResticRepo, initResticRepo } from "./testing/restic-oracle.js";
import { decodeTree, findNode } from "./tree.js";

describe("Go FileMode from st_mode", () => {
  it.each([
    [0o100644, 0o644, "file"],
    [0o104755, 0o755 | GoMode.setuid, "file"],
    [0o040755, GoMode.dir | 0o755, "dir"],
    [0o042775, GoMode.dir | GoMode.setgid | 0o775, "dir"],
    [0o041777, GoMode.dir | GoMode.sticky | 0o777, "dir"],
    [0o120777, GoMode.symlink | 0o777, "symlink"],
    [0o060660, GoMode.device | 0o660, "dev"],
    [0o020666, GoMode.device | GoMode.charDevice | 0o666, "chardev"],
    [0o010644, GoMode.namedPipe | 0o644, "fifo"],
    [0o140755, GoMode.socket | 0o755, "socket"],
  ])("st_mode %s", (stMode, goMode, type) => {
    expect(goFileMode(stMode)).toBe(goMode >>> 0);
    expect(nodeTypeOf(stMode)).toBe(type);
    expect(posixModeFromGo(goMode)).toBe(stMode & 0o7777);
  });

  it("matches the notes' examples (restic#3725)", () => {
    expect(goFileMode(0o100644)).toBe(420);
    expect(goFileMode(0o040755)).toBe(2147484141);
    expect(goFileMode(0o120777)).toBe(134218239);
    expect(goFileMode(0o104755)).toBe(8389101);
    expect(nodeTypeOf(0o000644)).toBeUndefined();
  });
});

describe("node from lstat", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fs-node-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads owner names from passwd/group files the way Go's os/user does (first match, '' when unknown)", async () => {
    writeFileSync(path.join(dir, "passwd"), "# comment\nroot:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nalias:x:1000:1000::/:/bin/sh\n");
    writeFileSync(path.join(dir, "group"), "root:x:0:\nstaff:x:50:alice\n");
    const names = new AccountNames(path.join(dir, "passwd"), path.join(dir, "group"));
    expect(await names.user(1000)).toBe("alice");
    expect(await names.user(0)).toBe("root");
    expect(await names.user(4242)).toBe("");
    expect(await names.group(50)).toBe("staff");
    expect(await names.group(7)).toBe("");
    expect(await new AccountNames(path.join(dir, "missing"), path.join(dir, "missing")).user(0)).toBe("");
  });

  it("keeps name bytes, sets atime = mtime unless asked, and omits zero sizes", async () => {
    const name = Buffer.from([0x61, 0xff, 0x0a]);
    const file = Buffer.concat([Buffer.from(`${dir}/`), name]);
    writeFileSync(file, "");
    utimesSync(file, new Date("2020-01-01T00:00:00Z"), new Date("2021-06-01T00:00:00.5Z"));
    const node = await nodeFromPath(file, { zone: "utc" });
    expect(node.name).toEqual(new Uint8Array(name));
    expect(formatRfc3339Nano(node.mtime)).toBe("2021-06-01T00:00:00.5Z");
    expect(node.atime).toEqual(node.mtime);
    expect(node.size).toBeUndefined();
    expect(node.content).toEqual([]);
    expect(encodeNode(node)).toContain('"name":"a\\\\xff\\\\n"');
    const withAtime = await nodeFromPath(file, { zone: "utc", withAtime: true });
    expect(formatRfc3339Nano(withAtime.atime)).toBe("2020-01-01T00:00:00Z");
    expect(baseNameBytes(Buffer.concat([file, Buffer.from("//")]))).toEqual(new Uint8Array(name));
    const st = await lstat(file, { bigint: true });
    const fromStats = await nodeFromStats(new Uint8Array([0x78]), entryStats(st), undefined, { zone: "utc" });
    expect(fromStats).toMatchObject({ type: "file", inode: st.ino, deviceId: st.dev, links: st.nlink, mtime: node.mtime });
  });
});

describe("extended attributes (no xattr API in Node)", () => {
  let repo: ResticRepo;
  let data: string;
  let hasXattr = false;
  beforeAll(async () => {
    repo = await initResticRepo();
    data = path.join(repo.dir, "data");
    mkdirSync(data);
    writeFileSync(path.join(data, "tagged"), "x");
    writeFileSync(path.join(data, "plain"), "y");
    // Set a user xattr with python3 where it exists and the file system supports it.
    const py = spawnSync("python3", ["-c", `import os; os.setxattr(${JSON.stringify(path.join(data, "tagged"))}, "user.origin", b"agent")`]);
    hasXattr = py.status === 0;
  });
  afterAll(() => repo?.close());

  it("a node made here lacks only restic's extended_attributes (so that one tree's ID differs)", async (ctx) => {
    if (!hasXattr) ctx.skip();
    const { tree } = await repo.backup(data);
    const nodes = decodeTree((await repo.tree(tree)).bytes);
    const theirs = findNode(nodes, Buffer.from("tagged"))!;
    expect(theirs.extendedAttributes).toEqual([{ name: "user.origin", value: new Uint8Array(Buffer.from("agent")) }]);
    const ours = await nodeFromPath(path.join(data, "tagged"));
    ours.content = theirs.content;
    expect(ours.extendedAttributes).toBeUndefined();
    expect(encodeNode({ ...ours, extendedAttributes: theirs.extendedAttributes })).toBe(encodeNode(theirs));
    const plain = await nodeFromPath(path.join(data, "plain"));
    plain.content = findNode(nodes, Buffer.from("plain"))!.content;
    expect(encodeNode(plain)).toBe(encodeNode(findNode(nodes, Buffer.from("plain"))!));
  });
});
