// sameNode decides that a folder is unchanged without encoding its tree: whatever it calls equal must encode to the
// same bytes, and any field that changes the bytes must make it false.
import { describe, expect, it } from "vitest";
import { parseRfc3339 } from "./go-time.js";
import { type Node, encodeNode, nodeKey, sameNode } from "./node.js";

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
const base = (): Node => ({
  name: utf8("notes.md"),
  type: "file",
  mode: 0o644,
  mtime: parseRfc3339("2024-01-02T03:04:05.123456789Z"),
  atime: parseRfc3339("2024-01-02T03:04:05.123456789Z"),
  ctime: parseRfc3339("2024-01-02T03:04:05.5+05:30"),
  uid: 1000,
  gid: 1000,
  user: "alice",
  group: "staff",
  inode: 2n ** 40n,
  deviceId: 66306n,
  size: 1234n,
  links: 1n,
  content: ["ab".repeat(32), "cd".repeat(32)],
});

describe("sameNode", () => {
  it("holds for equal nodes (separate objects), which encode to the same bytes", () => {
    const a = base();
    const b = base();
    expect(sameNode(a, b)).toBe(true);
    expect(encodeNode(a)).toBe(encodeNode(b));
    // Fields Go leaves out when zero or empty compare equal to absent ones, as their encodings do.
    const zeros = { ...base(), size: 0n, links: undefined, user: "", content: [] };
    const absent: Node = { ...base(), content: [] };
    delete absent.size;
    delete absent.links;
    delete absent.user;
    expect(sameNode(zeros, absent)).toBe(true);
    expect(encodeNode(zeros)).toBe(encodeNode(absent));
  });

  it("is false for every field that changes the encoding", () => {
    const changes: Partial<Node>[] = [
      { name: utf8("notes.mD") },
      { type: "symlink" },
      { mode: 0o600 },
      { mtime: parseRfc3339("2024-01-02T03:04:05.123456788Z") },
      { atime: parseRfc3339("2024-01-02T03:04:06.123456789Z") },
      // The same instant in another zone is other bytes (restic writes the offset).
      { ctime: parseRfc3339("2024-01-01T21:34:05.5Z") },
      { uid: 0 },
      { gid: 0 },
      { user: "bob" },
      { group: "" },
      { inode: 7n },
      { deviceId: 1n },
      { size: 1235n },
      { links: 2n },
      { linkTarget: utf8("elsewhere") },
      { device: 3n },
      { content: ["ab".repeat(32)] },
      { content: ["cd".repeat(32), "ab".repeat(32)] },
      { content: null },
      { subtree: "ef".repeat(32) },
      { error: "lstat failed" },
      { extendedAttributes: [{ name: "user.x", value: null }] },
      { genericAttributes: { windows: 1 } },
    ];
    for (const change of changes) {
      const other = { ...base(), ...change };
      expect(encodeNode(other), JSON.stringify(Object.keys(change))).not.toBe(encodeNode(base()));
      expect(sameNode(base(), other), JSON.stringify(Object.keys(change))).toBe(false);
      expect(sameNode(other, base()), JSON.stringify(Object.keys(change))).toBe(false);
      // nodeKey (a folder's digest) tells them apart too, except by content, which it leaves to the changed test.
      if (!("content" in change)) expect(nodeKey(other), JSON.stringify(Object.keys(change))).not.toBe(nodeKey(base()));
    }
  });

  it("nodeKey: equal for nodes sameNode calls equal (content aside), none for attributes it does not compare", () => {
    expect(nodeKey(base())).toBe(nodeKey({ ...base(), content: [] }));
    const zeros = { ...base(), size: 0n, links: undefined, user: "" };
    const absent: Node = base();
    delete absent.size;
    delete absent.links;
    delete absent.user;
    expect(nodeKey(zeros)).toBe(nodeKey(absent));
    // A name and a link target are bytes, length first: no two splits of the same characters give one key.
    expect(nodeKey({ ...base(), name: utf8("a"), linkTarget: utf8("b\u0000c") })).not.toBe(nodeKey({ ...base(), name: utf8("a\u0000b"), linkTarget: utf8("c") }));
    expect(nodeKey({ ...base(), extendedAttributes: [{ name: "user.x", value: null }] })).toBeUndefined();
    expect(nodeKey({ ...base(), genericAttributes: { windows: 1 } })).toBeUndefined();
  });

  it("never calls nodes with extended or generic attributes equal, even to themselves' copies (encoding decides)", () => {
    const a = { ...base(), extendedAttributes: [{ name: "user.x", value: new Uint8Array([1]) }] };
    expect(sameNode(a, a)).toBe(true); // the same object
    expect(sameNode(a, { ...a })).toBe(false);
  });
});
