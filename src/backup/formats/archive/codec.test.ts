import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { makeExcluder } from "../../../rclone/glob.js";
import { createCompressor, createDecompressor, createRechunker, escapeGlob, HashTap } from "./codec.js";

async function collect(stages: NodeJS.ReadWriteStream[], input: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await pipeline([Readable.from(input), ...stages, new Writable({ write: (c: Buffer, _e, cb) => void (out.push(c), cb()) })] as never);
  return out;
}

describe("codec stages", () => {
  it("rechunks small pieces into ~1 MiB buffers without changing the bytes", async () => {
    const input = Array.from({ length: 3000 }, (_, i) => Buffer.alloc(512, i % 251));
    const out = await collect([createRechunker(64 * 1024)], input);
    expect(Buffer.concat(out).equals(Buffer.concat(input))).toBe(true);
    expect(out.length).toBeLessThan(30);
  });

  it("hashes and counts exactly the bytes passing through", async () => {
    const data = Buffer.from("snapshot bytes ".repeat(10_000));
    const tap = new HashTap();
    await collect([tap], [data.subarray(0, 7), data.subarray(7)]);
    expect(tap.bytes).toBe(data.length);
    expect(tap.digest()).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it.each(["zstd", "gzip"] as const)("%s round-trips and detects corruption", async (c) => {
    const data = Buffer.from("abc ".repeat(50_000));
    const packed = Buffer.concat(await collect([createCompressor(c)!], [data]));
    expect(Buffer.concat(await collect([createDecompressor(c)!], [packed])).equals(data)).toBe(true);
    const bad = Buffer.from(packed);
    bad[Math.floor(bad.length / 2)]! ^= 0xff;
    await expect(collect([createDecompressor(c)!], [bad])).rejects.toThrow();
  });

  it("escapes literal paths for rclone-style excludes", () => {
    const rel = "a [1]/b*{x}?.sqlite";
    const ex = makeExcluder([`/${escapeGlob(rel)}`]);
    expect(ex.file(rel)).toBe(true);
    expect(ex.file("a [1]/bX{x}?.sqlite")).toBe(false);
  });
});
