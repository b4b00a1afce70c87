import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DirStorage } from "./backend-dir.js";
import { newRandomKey, open, seal } from "./crypto.js";
import { IntegrityError } from "./errors.js";
import { hashId } from "./ids.js";
import { decodeUnpacked, encodeUnpacked, loadUnpacked, saveUnpacked } from "./unpacked.js";

describe("unpacked files", () => {
  const key = newRandomKey();
  const doc = JSON.stringify({ packs: [], hello: "x".repeat(1000) });

  it("v2: version byte 2 + one zstd frame, named by the SHA-256 of the stored bytes", () => {
    const { id, bytes } = encodeUnpacked(key, 2, doc);
    expect(id).toBe(hashId(bytes));
    const plain = open(key, bytes);
    expect(plain[0]).toBe(2);
    expect(plain.subarray(1, 5).toString("hex")).toBe("28b52ffd");
    expect(zlib.zstdDecompressSync(plain.subarray(1)).toString()).toBe(doc);
    expect(decodeUnpacked(key, 2, "index", id, bytes).toString()).toBe(doc);
  });

  it("reads plain JSON in v2 and raw JSON in v1; refuses other version bytes", () => {
    for (const text of ['{"a":1}', "[1,2]"]) {
      const bytes = seal(key, Buffer.from(text));
      expect(decodeUnpacked(key, 2, "snapshots", hashId(bytes), bytes).toString()).toBe(text);
    }
    const v1 = encodeUnpacked(key, 1, doc);
    expect(open(key, v1.bytes).toString()).toBe(doc);
    const bad = seal(key, Buffer.from([3, 1, 2]));
    expect(() => decodeUnpacked(key, 2, "locks", hashId(bad), bad)).toThrow(/unsupported encoding \(version byte 3\)/);
  });

  it("names a tampered or renamed file", async () => {
    const storage = new DirStorage(await mkdtemp(path.join(os.tmpdir(), "repo-unpacked-")));
    const id = await saveUnpacked(storage, key, 2, "snapshots", doc);
    expect((await loadUnpacked(storage, key, 2, "snapshots", id)).toString()).toBe(doc);
    const bytes = await storage.load("snapshots", id);
    bytes[40]! ^= 1;
    await storage.save("snapshots", id, bytes);
    await expect(loadUnpacked(storage, key, 2, "snapshots", id)).rejects.toThrow(`snapshots/${id} does not match its name`);
    // Right name for the bytes, but the MAC fails: still named.
    const renamed = hashId(bytes);
    await storage.save("snapshots", renamed, bytes);
    const err = await loadUnpacked(storage, key, 2, "snapshots", renamed).then(() => undefined, (e: unknown) => e as IntegrityError);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err?.file).toBe(`snapshots/${renamed}`);
  });
});
