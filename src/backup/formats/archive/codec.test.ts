import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { makeExcluder } from "../../../rclone/glob.js";
import { claimHandedOver } from "../../../util/release-buffer.js";
import { createCompressor, createDecompressor, createOwnedChunks, createRechunker, escapeGlob, HashTap } from "./codec.js";

async function collect(stages: NodeJS.ReadWriteStream[], input: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await pipeline([Readable.from(input), ...stages, new Writable({ write: (c: Buffer, _e, cb) => void (out.push(c), cb()) })] as never);
  return out;
}

describe("codec stages", () => {
  it("copies a pipe's pieces into buffers of their own, each handed over, the input left as it was", async () => {
    const shared = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 253));
    const input = Array.from({ length: 25 }, (_, i) => shared.subarray((i * 397) % 9000, ((i * 397) % 9000) + 1000)); // views of one buffer
    const out: Buffer[] = [];
    const own: boolean[] = [];
    await pipeline(
      Readable.from(input),
      createOwnedChunks(4096),
      new Writable({
        write: (c: Buffer, _e, cb) => {
          own.push(claimHandedOver(c) && c.byteOffset === 0 && c.buffer !== shared.buffer);
          out.push(c);
          cb();
        },
      }),
    );
    expect(Buffer.concat(out).equals(Buffer.concat(input))).toBe(true);
    expect(out.map((c) => c.length)).toEqual([4096, 4096, 4096, 4096, 4096, 4096, 424]);
    expect(own.every(Boolean)).toBe(true);
    expect(shared.length).toBe(10_000);
  });

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
