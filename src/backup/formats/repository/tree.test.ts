import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, linkSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeFromPath } from "./fs-node.js";
import { parseRfc3339 } from "./go-time.js";
import { type Node, encodeNode } from "./node.js";
import { treeFromFs } from "./testing/fs-tree.js";
import { type ResticRepo, initResticRepo } from "./testing/restic-oracle.js";
import { TreeError, decodeTree, encodeTree, findNode, treeId } from "./tree.js";

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
const at = (iso: string) => parseRfc3339(iso);
const sample = (name: string | Uint8Array, extra: Partial<Node> = {}): Node => ({
  name: typeof name === "string" ? utf8(name) : name,
  type: "file",
  mode: 0o644,
  mtime: at("2024-01-02T03:04:05.1Z"),
  atime: at("2024-01-02T03:04:05.1Z"),
  ctime: at("2024-01-02T03:04:05.123456789+05:30"),
  uid: 1000,
  gid: 1000,
  content: [],
  ...extra,
});

describe("tree encoding (TreeJSONBuilder)", () => {
  it("writes restic's exact framing, field order and omitempty rules", () => {
    expect(encodeTree([]).toString()).toBe('{"nodes":[]}\n');
    const bytes = encodeTree([
      sample("b", { user: "u", group: "g", inode: 2n ** 63n + 5n, deviceId: 66306n, size: 1234n, links: 1n, content: ["ab".repeat(32)] }),
      sample("a", { type: "dir", mode: 2 ** 31 + 0o755, content: null, subtree: "cd".repeat(32) }),
      sample("e", { type: "file", mode: 0, uid: 0, gid: 0 }),
    ]).toString();
    expect(bytes).toBe(
      '{"nodes":[' +
        '{"name":"a","type":"dir","mode":2147484141,"mtime":"2024-01-02T03:04:05.1Z","atime":"2024-01-02T03:04:05.1Z","ctime":"2024-01-02T03:04:05.123456789+05:30","uid":1000,"gid":1000,"content":null,"subtree":"' +
        "cd".repeat(32) +
        '"},' +
        '{"name":"b","type":"file","mode":420,"mtime":"2024-01-02T03:04:05.1Z","atime":"2024-01-02T03:04:05.1Z","ctime":"2024-01-02T03:04:05.123456789+05:30","uid":1000,"gid":1000,"user":"u","group":"g","inode":9223372036854775813,"device_id":66306,"size":1234,"links":1,"content":["' +
        "ab".repeat(32) +
        '"]},' +
        '{"name":"e","type":"file","mtime":"2024-01-02T03:04:05.1Z","atime":"2024-01-02T03:04:05.1Z","ctime":"2024-01-02T03:04:05.123456789+05:30","uid":0,"gid":0,"content":[]}' +
        "]}\n",
    );
    // uint64 values survive a round trip exactly.
    expect(decodeTree(Buffer.from(bytes)).find((n) => n.inode)?.inode).toBe(2n ** 63n + 5n);
  });

  it("decodes a tree's folders alone (foldersOnly) exactly as in the whole decoding, keys of any case included", () => {
    const bytes = encodeTree([
      sample("a", { type: "dir", mode: 2 ** 31 + 0o755, content: null, subtree: "cd".repeat(32) }),
      sample("b", { content: ["ab".repeat(32)], size: 10n }),
      sample("c", { type: "symlink", linkTarget: utf8("b"), content: null }),
      sample("d", { type: "dir", mode: 2 ** 31 + 0o700, content: null, subtree: "ef".repeat(32) }),
    ]).toString();
    // A node whose keys another writer spelt in capitals (Go's decoder matches them regardless of case).
    const odd = bytes.replace('{"name":"d","type":"dir"', '{"Name":"d","Type":"dir"');
    expect(odd).not.toBe(bytes);
    for (const text of [bytes, odd]) {
      const all = decodeTree(Buffer.from(text));
      const folders = decodeTree(Buffer.from(text), true);
      expect(folders.map((n) => Buffer.from(n.name).toString())).toEqual(["a", "d"]);
      expect(folders).toEqual(all.filter((n) => n.type === "dir"));
    }
  });

  it("a tree of files alone is not parsed for its folders; a name or a spacing of its own does not hide a folder", () => {
    const files = encodeTree([sample("a", { content: ["ab".repeat(32)], size: 10n }), sample("b", { type: "symlink", linkTarget: utf8("a"), content: null })]);
    expect(decodeTree(files, true)).toEqual([]);
    expect(decodeTree(files)).toHaveLength(2);
    // Not JSON at all: only the whole decoding finds out (the walk for the folders leaves it to the walk of the entries).
    expect(decodeTree(Buffer.from("{not json"), true)).toEqual([]);
    expect(() => decodeTree(Buffer.from("{not json"))).toThrow(TreeError);
    const folder = encodeTree([sample("d", { type: "dir", mode: 2 ** 31 + 0o755, content: null, subtree: "cd".repeat(32) }), sample("dir")]).toString();
    for (const text of [folder, folder.replace('"type":"dir"', '"type" : "dir"')]) {
      expect(decodeTree(Buffer.from(text), true).map((n) => Buffer.from(n.name).toString())).toEqual(["d"]);
    }
  });

  it("sorts by raw name bytes (not UTF-16 order) and refuses empty or repeated names", () => {
    const names = ["\u{1f600}", "\uffff", "B", "a", "\u00e9"].map((s) => sample(s));
    const order = decodeTree(encodeTree(names)).map((n) => Buffer.from(n.name).toString());
    expect(order).toEqual(["B", "a", "\u00e9", "\uffff", "\u{1f600}"]); // JS sort would put the emoji before U+FFFF
    expect(() => encodeTree([sample("x"), sample("x")])).toThrow(TreeError);
    expect(() => encodeTree([sample(new Uint8Array(0))])).toThrow(/empty name/);
    const nodes = decodeTree(encodeTree(names));
    expect(findNode(nodes, utf8("\uffff"))?.name).toEqual(utf8("\uffff"));
    expect(findNode(nodes, utf8("zz"))).toBeUndefined();
  });

  it("escapes strings as Go 1.19's encoding/json does", () => {
    const node = sample("x", { type: "symlink", content: null, linkTarget: utf8("<a&b>\u2028\u2029\x08\x0c\x7f\x01\"\\"), user: "\u00e9" });
    const json = encodeNode(node);
    expect(json).toContain('"linktarget":"\\u003ca\\u0026b\\u003e\\u2028\\u2029\\u0008\\u000c\x7f\\u0001\\"\\\\"');
    expect(json).toContain('"user":"\u00e9"');
  });

  it("keeps a non-UTF-8 symlink target exact: lossy linktarget plus linktarget_raw (restic >= 0.17)", () => {
    const target = Uint8Array.from([0x2e, 0x2e, 0x2f, 0xff, 0x61]);
    const json = encodeNode(sample("l", { type: "symlink", content: null, linkTarget: target }));
    expect(json).toContain('"linktarget":"../\\ufffda","linktarget_raw":"Li4v/2E="');
    const back = decodeTree(Buffer.from(`{"nodes":[${json}]}\n`))[0]!;
    expect(back.linkTarget).toEqual(target);
  });

  it("reads what newer restic versions and other writers put in trees", () => {
    const tree = Buffer.from(
      JSON.stringify({
        nodes: [
          {
            name: "f",
            type: "file",
            mode: 420,
            mtime: "2024-05-06T07:08:09.000000001-07:00",
            atime: "2024-05-06T07:08:09Z",
            ctime: "2024-05-06T07:08:09.5+00:00",
            uid: 1,
            gid: 2,
            extended_attributes: [
              { name: "user.a", value: "AQI=" },
              { name: "user.empty", value: null },
            ],
            generic_attributes: { "windows.creation_time": "AAAA" },
            content: null,
            future_field: { x: 1 },
          },
          { Name: "g", TYPE: "dir", subtree: "AB".repeat(32), uid: 0, gid: 0 },
        ],
        extra: true,
      }),
    );
    const [f, g] = decodeTree(tree);
    expect(f!.extendedAttributes).toEqual([
      { name: "user.a", value: Uint8Array.from([1, 2]) },
      { name: "user.empty", value: null },
    ]);
    expect(f!.genericAttributes).toEqual({ "windows.creation_time": "AAAA" });
    expect(f!.mtime).toEqual({ sec: 1715004489, nsec: 1, offset: -7 * 3600 });
    expect(g!.subtree).toBe("ab".repeat(32));
    expect(g!.mtime).toEqual({ sec: -62135596800, nsec: 0, offset: 0 }); // missing time: Go's zero time
    const again = encodeNode(f!);
    expect(again).toContain('"extended_attributes":[{"name":"user.a","value":"AQI="},{"name":"user.empty","value":null}],"generic_attributes":{"windows.creation_time":"AAAA"}');
    expect(again).toContain('"atime":"2024-05-06T07:08:09Z","ctime":"2024-05-06T07:08:09.5Z"');
    expect(() => decodeTree(Buffer.from('{"nodes":[{"name":"a\\"b"}]}'))).toThrow(/tree blob: invalid Go-quoted name/);
    expect(() => decodeTree(Buffer.from('{"nodes":[{"name":"a","uid":-1}]}'))).toThrow(/uid is not a uint32/);
    expect(() => decodeTree(Buffer.from("not json"))).toThrow(/not valid JSON/);
    expect(decodeTree(Buffer.from('{"nodes":null}'))).toEqual([]);
  });
});

/** A directory with every kind of entry and hostile names, times chosen to cross DST and the epoch. */
function buildVariedDir(root: string): { socket: net.Server } {
  const p = (...parts: Array<string | Buffer>) => Buffer.concat(parts.flatMap((x, i) => (i === 0 ? [Buffer.from(x)] : [Buffer.from("/"), Buffer.from(x)])));
  mkdirSync(root);
  const names: Array<string | Buffer> = [
    "plain.txt",
    'quote"name',
    "back\\slash",
    "new\nline",
    "tab\tname",
    "\x01ctrl\x7fdel",
    "<html>&amp;",
    "nbsp\u00a0zw\u200bls\u2028",
    "emoji \u{1f600}\u{1fae8}",
    "caf\u00e9 vs cafe\u0301",
    "\u65e5\u672c\u8a9e",
    "-dash",
    ".hidden",
    "x".repeat(255),
    Buffer.from([0x69, 0x6e, 0x76, 0xff, 0xfe]),
    Buffer.from([0xed, 0xa0, 0x80]),
  ];
  for (const [i, name] of names.entries()) writeFileSync(p(root, name), `file ${i}\n`);
  writeFileSync(p(root, "empty"), "");
  writeFileSync(p(root, "big"), Buffer.alloc(3 * 1024 * 1024, "0123456789abcdef"));
  mkdirSync(p(root, "empty-dir"));
  mkdirSync(p(root, "sub"));
  mkdirSync(p(root, "sub", "deeper"));
  writeFileSync(p(root, "sub", "deeper", "leaf"), "leaf\n");
  writeFileSync(p(root, "sub", "0600"), "secret\n");
  chmodSync(p(root, "sub", "0600"), 0o600);
  writeFileSync(p(root, "sub", "0755"), "#!/bin/sh\n");
  chmodSync(p(root, "sub", "0755"), 0o755);
  writeFileSync(p(root, "sub", "04755"), "setuid\n");
  chmodSync(p(root, "sub", "04755"), 0o4755);
  mkdirSync(p(root, "sub", "setgid-dir"));
  chmodSync(p(root, "sub", "setgid-dir"), 0o2775);
  mkdirSync(p(root, "sub", "sticky-dir"));
  chmodSync(p(root, "sub", "sticky-dir"), 0o1777);
  linkSync(p(root, "plain.txt"), p(root, "sub", "hardlink"));
  symlinkSync("../plain.txt", p(root, "sub", "rel-link"));
  symlinkSync("/nonexistent/dangling \u00e9", p(root, "sub", "dangling-link"));
  symlinkSync("deeper", p(root, "sub", "dir-link"));
  symlinkSync("ctl\x08\x0c\x01\x7f<&>\u2028\u00a0", p(root, "sub", "odd-target")); // Go 1.19 JSON: \u0008 \u000c, raw DEL
  execFileSync("mkfifo", [p(root, "fifo").toString()]);
  const mknod = spawnSync("mknod", [p(root, "chardev").toString(), "c", "1", "3"]);
  if (mknod.status !== 0) writeFileSync(p(root, "chardev"), "mknod not permitted here\n");
  const socket = net.createServer().listen(p(root, "sock").toString());
  // Times: summer and winter (DST), before the epoch, whole seconds, far future, nanoseconds.
  const times: Array<[string | Buffer, number]> = [
    ["plain.txt", Date.UTC(2024, 6, 1, 12) / 1000 + 0.123456],
    ['quote"name', Date.UTC(2024, 0, 15, 3) / 1000],
    ["empty", -631152000], // 1950-01-01T00:00:00Z
    ["big", Date.UTC(2500, 1, 28) / 1000], // ext4 clamps to 2446
    [p("sub", "0600"), Date.UTC(2021, 2, 14, 7, 30) / 1000], // around the US DST switch
  ];
  // (Node's utimes takes a negative number of seconds wrongly; a Date is fine.)
  for (const [name, t] of times) utimesSync(p(root, name), t < 0 ? new Date(t * 1000) : t, t < 0 ? new Date(t * 1000) : t);
  return { socket };
}

describe.each(["UTC", "America/New_York", "Asia/Kolkata"])("trees and nodes against restic 0.14 (TZ=%s)", (tz) => {
  let repo: ResticRepo;
  let dir: string;
  let rootTree: string;
  let socket: net.Server;
  const savedTz = process.env.TZ;
  beforeAll(async () => {
    process.env.TZ = tz; // restic and this process must agree on the local zone: times carry its offset
    repo = await initResticRepo();
    dir = path.join(repo.dir, "data");
    ({ socket } = buildVariedDir(dir));
    rootTree = (await repo.backup(dir, { TZ: tz })).tree;
  });
  afterAll(() => {
    socket?.close();
    repo?.close();
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  async function allTrees(): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    const visit = async (id: string) => {
      const { bytes } = await repo.tree(id);
      out.set(id, bytes);
      for (const n of decodeTree(bytes)) if (n.subtree) await visit(n.subtree);
    };
    await visit(rootTree);
    return out;
  }

  it("decodes every tree restic wrote and re-encodes it to identical bytes and ID", async () => {
    const trees = await allTrees();
    expect(trees.size).toBeGreaterThanOrEqual(4); // the empty directories share one tree
    const root = trees.get(rootTree)!.toString("utf8");
    const offsets = { UTC: ["2024-07-01T12:00:00.123456001Z", "1950-01-01T00:00:00Z"], "America/New_York": ["2024-07-01T08:00:00.123456001-04:00", "2024-01-14T22:00:00-05:00", "1949-12-31T19:00:00-05:00"], "Asia/Kolkata": ["2024-07-01T17:30:00.123456001+05:30"] }[tz]!;
    for (const t of offsets) expect(root).toContain(`"mtime":"${t}"`);
    for (const [id, bytes] of trees) {
      const again = encodeTree(decodeTree(bytes));
      expect(again.toString("utf8")).toBe(bytes.toString("utf8"));
      expect(treeId(again)).toBe(id);
    }
  });

  it("builds every node from lstat exactly as restic did (same tree IDs from the file system)", async () => {
    const resticTrees = await allTrees();
    const ours = await treeFromFs(dir, await repo.polynomial());
    if (ours.root !== rootTree) {
      // Show the differing nodes: walk both trees by name.
      const diff = (mine: Buffer, theirs: Buffer, where: string): string[] => {
        const a = decodeTree(mine);
        const b = decodeTree(theirs);
        const out: string[] = [];
        for (const n of a) {
          const m = findNode(b, n.name);
          if (!m) out.push(`${where}: only ours: ${encodeNode(n)}`);
          else if (n.subtree && m.subtree && n.subtree !== m.subtree) out.push(...diff(ours.trees.get(n.subtree)!, resticTrees.get(m.subtree)!, `${where}/${Buffer.from(n.name)}`));
          else if (encodeNode(n) !== encodeNode(m)) out.push(`${where}:\n ours   ${encodeNode(n)}\n restic ${encodeNode(m)}`);
        }
        for (const m of b) if (!findNode(a, m.name)) out.push(`${where}: only restic's: ${encodeNode(m)}`);
        return out;
      };
      expect(diff(ours.trees.get(ours.root)!, resticTrees.get(rootTree)!, ".").join("\n")).toBe("");
    }
    expect(ours.root).toBe(rootTree);
    const kinds = new Set([...resticTrees.values()].flatMap((b) => decodeTree(b).map((n) => n.type)));
    expect([...kinds].sort()).toEqual(expect.arrayContaining(["dir", "fifo", "file", "symlink"]));
    expect(kinds.has("socket")).toBe(false); // restic 0.14's archiver skips sockets
  });

  it("restic stores atime = mtime (no --with-atime), and Go FileMode bits", async () => {
    const root = decodeTree((await repo.tree(rootTree)).bytes);
    for (const n of root) expect(n.atime).toEqual(n.mtime);
    const sub = decodeTree((await repo.tree(findNode(root, utf8("sub"))!.subtree!)).bytes);
    const mode = (name: string) => findNode(sub, utf8(name))!.mode;
    expect(mode("0600")).toBe(0o600);
    expect(mode("04755")).toBe(0o755 + 2 ** 23);
    expect(mode("setgid-dir")).toBe(2 ** 31 + 2 ** 22 + 0o775);
    expect(mode("sticky-dir")).toBe(2 ** 31 + 2 ** 20 + 0o777);
    expect(mode("rel-link")).toBe(2 ** 27 + 0o777);
    expect(findNode(sub, utf8("hardlink"))!.links).toBe(2n);
    const subBytes = (await repo.tree(findNode(root, utf8("sub"))!.subtree!)).bytes.toString("utf8");
    expect(subBytes).toContain('"linktarget":"ctl\\u0008\\u000c\\u0001\x7f\\u003c\\u0026\\u003e\\u2028\u00a0"');
    const ours = await nodeFromPath(path.join(dir, "sub", "04755"));
    expect(ours.mode).toBe(mode("04755"));
  });
});
