// Multi-frame zstd: our parallel output is standard (the zstd CLI decodes it), and our decoder reads every frame
// of any zstd stream (Node's own decompressor stops after the first one).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimHandedOver, handOver } from "../../../util/release-buffer.js";
import { createParallelZstdCompressor, createZstdFramesDecompressor } from "./zstd-frames.js";

const run = promisify(execFile);
let dir: string;
beforeAll(async () => void (dir = await mkdtemp(path.join(os.tmpdir(), "ws-zstd-"))));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Feeds data in uneven pieces, so frame structures straddle chunk boundaries. */
function pieces(data: Buffer): Readable {
  const out: Buffer[] = [];
  for (let i = 0, n = 1; i < data.length; i += n, n = (n * 7 + 3) % 70_001 || 1) out.push(data.subarray(i, i + n));
  return Readable.from(out);
}

async function through(data: Buffer, stage: NodeJS.ReadWriteStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(pieces(data), stage, new Writable({ write: (c: Buffer, _e, cb) => void (chunks.push(c), cb()) }));
  return Buffer.concat(chunks);
}

const mixed = (n: number) => Buffer.concat([randomBytes(n / 2), Buffer.from("text ".repeat(n / 10))]);
const small = { blockSize: 64 * 1024, parallel: 3 };

describe("parallel zstd frames", () => {
  it.each([0, 1, 64 * 1024, 64 * 1024 + 1, 700_000])("round-trips %d bytes", async (n) => {
    const data = mixed(n);
    const packed = await through(data, createParallelZstdCompressor(small));
    expect((await through(packed, createZstdFramesDecompressor())).equals(data)).toBe(true);
  });

  it("writes a standard stream: the zstd CLI decodes it", async () => {
    const data = mixed(1_000_000);
    await writeFile(path.join(dir, "ours.zst"), await through(data, createParallelZstdCompressor(small)));
    await run("zstd", ["-d", "-q", "-f", path.join(dir, "ours.zst"), "-o", path.join(dir, "ours.out")]);
    expect((await readFile(path.join(dir, "ours.out"))).equals(data)).toBe(true);
  });

  it("reads what the zstd CLI writes: one frame, concatenated frames, no size, no checksum, skippable frames", async () => {
    const a = mixed(300_000);
    const b = Buffer.alloc(500_000, 7);
    await writeFile(path.join(dir, "a"), a);
    await writeFile(path.join(dir, "b"), b);
    await run("zstd", ["-q", "-f", "-19", path.join(dir, "a"), "-o", path.join(dir, "a.zst")]);
    await run("zstd", ["-q", "-f", "--no-check", path.join(dir, "b"), "-o", path.join(dir, "b.zst")]);
    const za = await readFile(path.join(dir, "a.zst"));
    const zb = await readFile(path.join(dir, "b.zst"));
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]), Buffer.from("hello")]);
    const noSize = zlib.zstdCompressSync(a); // one-shot: content size known; a streamed frame has none
    const streamed = await through(a, zlib.createZstdCompress());
    const all = Buffer.concat([za, skippable, zb, noSize, streamed]);
    expect((await through(all, createZstdFramesDecompressor())).equals(Buffer.concat([a, b, a, a]))).toBe(true);
  });

  it("fails on truncated, trailing or corrupted data", async () => {
    const packed = await through(mixed(400_000), createParallelZstdCompressor(small));
    await expect(through(packed.subarray(0, packed.length - 3), createZstdFramesDecompressor())).rejects.toThrow();
    await expect(through(Buffer.concat([packed, Buffer.from("garbage!")]), createZstdFramesDecompressor())).rejects.toThrow(/not zstd data/);
    const bad = Buffer.from(packed);
    bad[Math.floor(bad.length / 2)]! ^= 0x40;
    await expect(through(bad, createZstdFramesDecompressor())).rejects.toThrow();
  });

  // Frames are decoded on several lanes at once; what comes out must stay in stream order, and a huge frame behind
  // small ones (or small ones behind a huge one) must neither reorder nor pile up output for a slow reader.
  it.each([1, 2, 3])("keeps frame order and bounded memory with %d lane(s), whatever the frames' sizes", async (lanes) => {
    const before = mixed(300_000);
    const after = mixed(200_000);
    const zeros = Buffer.alloc(48 << 20);
    const packed = Buffer.concat([
      await through(before, createParallelZstdCompressor(small)),
      zlib.zstdCompressSync(zeros),
      await through(after, createParallelZstdCompressor(small)),
      zlib.zstdCompressSync(zeros.subarray(0, 1 << 20)),
    ]);
    const parts: Buffer[] = [];
    let peak = 0;
    const decoder = createZstdFramesDecompressor({ lanes });
    await pipeline(
      pieces(packed),
      decoder,
      new Writable({
        highWaterMark: 1 << 20,
        write(c: Buffer, _e, cb) {
          parts.push(c);
          peak = Math.max(peak, decoder.readableLength);
          setImmediate(cb);
        },
      }),
    );
    const out = Buffer.concat(parts);
    expect(out.length).toBe(before.length + zeros.length + after.length + (1 << 20));
    expect(out.subarray(0, before.length).equals(before)).toBe(true);
    expect(out.subarray(before.length, before.length + zeros.length).equals(zeros)).toBe(true);
    expect(out.subarray(before.length + zeros.length, before.length + zeros.length + after.length).equals(after)).toBe(true);
    expect(peak).toBeLessThan(8 << 20);
  });

  it.each([1, 2])("frees each input chunk handed over once its lanes took it in, and no other (%d lane(s))", async (lanes) => {
    const data = mixed(700_000);
    const packed = await through(data, createParallelZstdCompressor(small));
    // 64 KiB chunks with memory of their own, as the decrypting stage hands them on; every third one is not handed over.
    const chunks: Buffer[] = [];
    for (let i = 0; i < packed.length; i += 65_536) {
      const own = Buffer.alloc(Math.min(65_536, packed.length - i));
      packed.copy(own, 0, i);
      chunks.push(chunks.length % 3 === 2 ? own : handOver(own));
    }
    const sizes = chunks.map((c) => c.length);
    const out: Buffer[] = [];
    await pipeline(Readable.from(chunks), createZstdFramesDecompressor({ lanes }), new Writable({ write: (c: Buffer, _e, cb) => void (out.push(c), cb()) }));
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(chunks.map((c) => c.length)).toEqual(sizes.map((n, i) => (i % 3 === 2 ? n : 0)));
  });

  it("with handOver, passes on copies of memory of their own, each handed over (zlib's output buffers are reused)", async () => {
    const data = mixed(700_000);
    const packed = await through(data, createParallelZstdCompressor(small));
    const out: Buffer[] = [];
    const claimed: boolean[] = [];
    await pipeline(
      pieces(packed),
      createZstdFramesDecompressor({ handOver: true }),
      new Writable({
        write: (c: Buffer, _e, cb) => {
          claimed.push(claimHandedOver(c) && c.byteOffset === 0 && c.buffer.byteLength === c.length);
          out.push(c);
          cb();
        },
      }),
    );
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(claimed.length).toBeGreaterThan(1);
    expect(claimed.every(Boolean)).toBe(true);
  });

  it("keeps memory bounded when a tiny input expands hugely for a slow reader", async () => {
    await run("bash", ["-c", `head -c ${256 << 20} /dev/zero | zstd -q -c > '${path.join(dir, "zeros.zst")}'`]);
    const packed = await readFile(path.join(dir, "zeros.zst")); // 256 MiB of zeros in a few KiB
    let seen = 0;
    let peak = 0;
    const decoder = createZstdFramesDecompressor();
    await pipeline(
      Readable.from([packed]),
      decoder,
      new Writable({
        highWaterMark: 1 << 20,
        write(c: Buffer, _e, cb) {
          seen += c.length;
          peak = Math.max(peak, decoder.readableLength);
          setImmediate(cb);
        },
      }),
    );
    expect(seen).toBe(256 << 20);
    expect(peak).toBeLessThan(8 << 20); // what waits in the decoder, not the 256 MiB
  });
});
