import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeIndex, MasterIndex, parseIndex, type PackEntry } from "./index.js";

const id = (s: string) => createHash("sha256").update(s).digest("hex");

describe("index", () => {
  const packs: PackEntry[] = [
    { id: id("p1"), blobs: [
      { id: id("a"), type: "data", offset: 0, length: 100, uncompressedLength: 300 },
      { id: id("b"), type: "data", offset: 100, length: 50, uncompressedLength: 0 },
    ] },
    { id: id("p2"), blobs: [{ id: id("t"), type: "tree", offset: 0, length: 70, uncompressedLength: 90 }] },
  ];

  it("encodes restic's JSON: field order, uncompressed_length only when compressed, trailing newline, no supersedes", () => {
    const text = encodeIndex(packs);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).not.toContain("supersedes");
    expect(text).toContain(`{"id":"${id("a")}","type":"data","offset":0,"length":100,"uncompressed_length":300}`);
    expect(text).toContain(`{"id":"${id("b")}","type":"data","offset":100,"length":50}`);
    expect(parseIndex(JSON.parse(text), "index/x")).toEqual(packs);
  });

  it("refuses malformed documents, naming the file", () => {
    expect(() => parseIndex({}, "index/abc")).toThrow("index/abc: no packs array");
    expect(() => parseIndex({ packs: [{ id: "zz", blobs: [] }] }, "index/abc")).toThrow(/pack 0 has no valid id/);
    expect(() => parseIndex({ packs: [{ id: id("p"), blobs: [{ id: id("x"), type: "blob", offset: 0, length: 1 }] }] }, "index/abc")).toThrow(/invalid type/);
  });

  it("looks blobs up by type and ID, keeps duplicates, and derives pack sizes", () => {
    const mi = new MasterIndex();
    for (const p of packs) mi.addPack(p.id, p.blobs);
    expect(mi.has("data", id("a"))).toBe(true);
    expect(mi.has("tree", id("a"))).toBe(false);
    expect(mi.has("data", id("zzz"))).toBe(false);
    expect(mi.lookup("tree", id("t"))).toEqual([{ id: id("t"), type: "tree", packId: id("p2"), offset: 0, length: 70, uncompressedLength: 90 }]);
    expect(mi.plaintextSize("data", id("b"))).toBe(18);
    mi.addPack(id("p3"), [{ id: id("a"), type: "data", offset: 0, length: 100, uncompressedLength: 300 }]);
    expect(mi.lookup("data", id("a")).map((l) => l.packId)).toEqual([id("p1"), id("p3")]);
    const sizes = mi.packs();
    expect(sizes.get(id("p1"))!.size).toBe(100 + 50 + 41 + 37 + 36);
  });

  it("holds many blobs compactly and finds every one", () => {
    const mi = new MasterIndex();
    const n = 200_000;
    const blobs = Array.from({ length: n }, (_, i) => ({ id: id(`blob${i}`), type: "data" as const, offset: i * 10, length: 10, uncompressedLength: 0 }));
    for (let i = 0; i < n; i += 1000) mi.addPack(id(`pack${i}`), blobs.slice(i, i + 1000));
    expect(mi.size).toBe(n);
    for (let i = 0; i < n; i += 997) expect(mi.has("data", blobs[i]!.id)).toBe(true);
    expect(mi.has("data", id("blob-missing"))).toBe(false);
  });
});
