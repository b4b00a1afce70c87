import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DirStorage } from "./backend-dir.js";
import { newRandomKey, open, seal } from "./crypto.js";
import { IntegrityError } from "./errors.js";
import { hashId } from "./ids.js";
import { zstdCompress, zstdFrameContentSize } from "./compress.js";
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

  it("decodes a frame in the size its header declares, decodes whole when there is none, refuses a false one", () => {
    const sealed = (body: Buffer) => {
      const bytes = seal(key, Buffer.concat([Buffer.of(2), body]));
      return { id: hashId(bytes), bytes };
    };
    for (const size of [0, 1, 255, 256, 300, 65_791, 65_792, 1 << 20]) {
      const text = Buffer.alloc(size, "a");
      const frame = zstdCompress(text);
      expect(zstdFrameContentSize(frame), `size ${size}`).toBe(size);
      const { id, bytes } = sealed(frame);
      expect(decodeUnpacked(key, 2, "index", id, bytes).equals(text)).toBe(true);
    }
    expect(zstdFrameContentSize(Buffer.from("{}"))).toBeUndefined();
    // A frame without a size in its header.
    const unsized = zlib.zstdCompressSync(Buffer.from(doc), { params: { [zlib.constants.ZSTD_c_contentSizeFlag]: 0 } });
    expect(zstdFrameContentSize(unsized)).toBeUndefined();
    const plain = sealed(unsized);
    expect(decodeUnpacked(key, 2, "index", plain.id, plain.bytes).toString()).toBe(doc);
    // A header that claims less than the frame holds is a damaged frame: zstd refuses it, named as before.
    const lying = Buffer.from(zstdCompress(Buffer.from(doc.repeat(20))));
    expect(lying[4]! >> 6).toBe(1); // a 2-byte size field (256..65791) right after the descriptor (single segment)
    lying.writeUInt16LE(10, 5);
    expect(zstdFrameContentSize(lying)).toBe(266);
    const { id, bytes } = sealed(lying);
    expect(() => decodeUnpacked(key, 2, "index", id, bytes)).toThrow(/index\/[0-9a-f]{64} does not decompress/);
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
