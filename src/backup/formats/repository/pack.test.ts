import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { newRandomKey, open } from "./crypto.js";
import { IntegrityError } from "./errors.js";
import { hashId } from "./ids.js";
import { releaseBuffer } from "../../../util/release-buffer.js";
import { zstdCompress, zstdDecompress } from "./compress.js";
import { decodeBlob, encodeBlob, looksCompressible, packSizeFromBlobs, PackWriter, readPackHeader } from "./pack.js";

const key = newRandomKey();

function pack(blobs: Buffer[], compress = true) {
  const w = new PackWriter(key, "data");
  for (const b of blobs) {
    const { sealed, uncompressedLength } = encodeBlob(key, b, compress);
    w.add(hashId(b), sealed, uncompressedLength);
  }
  return w.finalize();
}

async function stored(parts: Buffer[], id: string) {
  const storage = new DirStorage(await mkdtemp(path.join(os.tmpdir(), "repo-pack-")));
  await storage.save("data", id, Buffer.concat(parts));
  return storage;
}

describe("packs", () => {
  it("writes blobs, then the encrypted header, then its length; size = what the index implies", async () => {
    const blobs = [Buffer.from("a".repeat(5000)), randomBytes(3000), Buffer.alloc(0), Buffer.from("tiny")];
    const p = pack(blobs);
    const file = Buffer.concat(p.parts);
    expect(file.length).toBe(p.size);
    expect(p.size).toBe(packSizeFromBlobs(p.blobs));
    expect(p.id).toBe(hashId(file));
    // compressible → compressed (type 2, 41-byte entry); random, empty and tiny → stored as is (37 bytes)
    expect(p.blobs.map((b) => b.uncompressedLength)).toEqual([5000, 0, 0, 0]);
    const hlen = file.readUInt32LE(file.length - 4);
    expect(hlen).toBe(41 + 3 * 37 + 32);
    const header = open(key, file.subarray(file.length - 4 - hlen, file.length - 4));
    expect(header[0]).toBe(2);
    expect(header[41]).toBe(0);
    const storage = await stored(p.parts, p.id);
    const read = await readPackHeader(storage, key, p.id);
    expect(read).toEqual(p.blobs);
    for (const [i, b] of read.entries()) {
      const sealed = await storage.load("data", p.id, { offset: b.offset, length: b.length });
      expect(decodeBlob(key, b, sealed, p.id).equals(blobs[i]!)).toBe(true);
    }
  });

  it("a decoded blob, compressed or not and however small, has memory of its own that its taker can free at once", async () => {
    const blobs = [Buffer.from("b".repeat(900)), randomBytes(700), Buffer.from("c".repeat(100_000))];
    const p = pack(blobs);
    const storage = await stored(p.parts, p.id);
    const pooled = Buffer.from("a neighbour in Node's shared pool");
    for (const [i, b] of p.blobs.entries()) {
      const sealed = await storage.load("data", p.id, { offset: b.offset, length: b.length });
      const plain = decodeBlob(key, b, sealed, p.id);
      expect(plain.equals(blobs[i]!)).toBe(true);
      expect(plain.buffer.byteLength).toBeGreaterThanOrEqual(plain.length);
      releaseBuffer(plain);
      expect(plain.length).toBe(0); // a slice of Node's pool could not be freed (and would take its neighbours with it)
    }
    expect(p.blobs.map((b) => b.uncompressedLength > 0)).toEqual([true, false, true]);
    expect(pooled.toString()).toBe("a neighbour in Node's shared pool");
  });

  it("an encoded blob and its compressed form have memory of their own (sent to a worker and back without a copy, freed at once)", () => {
    for (const plain of [Buffer.from("tiny text, compressible? ".repeat(4)), Buffer.from("z".repeat(200)), randomBytes(300)]) {
      const { sealed } = encodeBlob(key, plain, true);
      expect(sealed.byteOffset).toBe(0);
      expect(sealed.buffer.byteLength).toBe(sealed.length); // transferable as it is
      const packed = zstdCompress(plain);
      expect(zstdDecompress(packed, plain.length).equals(plain)).toBe(true);
      releaseBuffer(packed);
      expect(packed.length).toBe(0); // not a slice of Node's pool
    }
  });

  it("skips the zstd attempt for big incompressible blobs, compresses big compressible ones", () => {
    const media = randomBytes(1 << 20);
    expect(looksCompressible(media)).toBe(false);
    expect(encodeBlob(key, media, true).uncompressedLength).toBe(0);
    const text = Buffer.from("log line with some words\n".repeat(50_000));
    expect(looksCompressible(text)).toBe(true);
    expect(encodeBlob(key, text, true).uncompressedLength).toBe(text.length);
    // Half text, half random: the samples see text, so it is compressed.
    const mixed = Buffer.concat([text.subarray(0, 600_000), randomBytes(600_000)]);
    expect(encodeBlob(key, mixed, true).uncompressedLength).toBe(mixed.length);
  });

  it("reads a header bigger than the eager read (many blobs)", async () => {
    const blobs = Array.from({ length: 100 }, (_, i) => Buffer.from(`blob ${i} `.repeat(i + 1)));
    const p = pack(blobs, false);
    expect((await readPackHeader(await stored(p.parts, p.id), key, p.id)).length).toBe(100);
  });

  it("names a tampered blob and a tampered or truncated pack", async () => {
    const p = pack([Buffer.from("x".repeat(100)), Buffer.from("y".repeat(100))]);
    const file = Buffer.concat(p.parts);
    const blob = p.blobs[1]!;
    const bad = Buffer.from(file.subarray(blob.offset, blob.offset + blob.length));
    bad[20]! ^= 1;
    expect(() => decodeBlob(key, blob, bad, p.id)).toThrow(`data blob ${blob.id} in pack data/${p.id.slice(0, 2)}/${p.id} fails authentication`);
    const headerTampered = Buffer.from(file);
    headerTampered[headerTampered.length - 10]! ^= 1;
    await expect(readPackHeader(await stored([headerTampered], p.id), key, p.id)).rejects.toThrow(/pack header fails authentication/);
    const truncated = file.subarray(0, file.length - 1);
    const err = await readPackHeader(await stored([truncated], p.id), key, p.id).then(() => undefined, (e: unknown) => e as IntegrityError);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err?.file).toBe(`data/${p.id.slice(0, 2)}/${p.id}`);
    const longer = Buffer.concat([file.subarray(0, 10), file]);
    await expect(readPackHeader(await stored([longer], p.id), key, p.id)).rejects.toThrow(/bytes but its header describes/);
  });
});
