import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ResticRepo, initResticRepo } from "../testing/restic-oracle.js";
import { ChunkReader, Chunker, type ChunkerImplementation, chunkLengths, readFromFileHandle } from "./chunker.js";
import { type ChunkerParams, MAX_SIZE, MIN_SIZE, RESTIC_PARAMS, rabinTables } from "./tables.js";

const TEST_POL = 0x3da3358b4dc173n; // upstream chunker_test.go's testPol
const IMPLS: ChunkerImplementation[] = ["wasm", "js"];
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be reproduced. */
function prng(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, size);
}

/** Text-like data: words from a small vocabulary, lines of varying length (what an agent workspace mostly holds). */
function textLike(size: number, seed: number): Buffer {
  const words = "the a restic chunk agent workspace file sync backup tree node index pack blob data config key lock snapshot function return const let import export if else for while".split(" ");
  const r = prng(size, seed);
  const out = Buffer.alloc(size);
  let o = 0;
  let i = 0;
  while (o < size) {
    const w = words[r[i++ % r.length]! % words.length]!;
    o += out.write(r[i++ % r.length]! % 11 === 0 ? `${w}\n` : `${w} `, o);
  }
  return out;
}

/**
 * A literal port of github.com/restic/chunker's BaseChunker (window array, reset with the byte-1 marker, skip of
 * MinSize-64 bytes, cut test on every hashed byte) in BigInt: slow, but written the way upstream is, to check the
 * fast cores' reformulation (fingerprint of the last 64 bytes, tested only from MinSize on).
 */
function goReference(data: Uint8Array, pol: bigint, p: ChunkerParams): Array<{ length: number; cut: bigint }> {
  const t = rabinTables(pol);
  const shift = BigInt(t.polShift);
  const mask = (1n << BigInt(p.averageBits)) - 1n;
  const chunks: Array<{ length: number; cut: bigint }> = [];
  let win = new Uint8Array(64);
  let wpos = 0;
  let digest = 0n;
  let count = 0;
  let pre = 0;
  const slide = (b: number) => {
    const out = win[wpos]!;
    win[wpos] = b;
    digest ^= t.out[out]!;
    wpos = (wpos + 1) % 64;
    const index = digest >> shift;
    digest = ((digest << 8n) | BigInt(b)) ^ t.mod[Number(index)]!;
  };
  const reset = () => {
    win = new Uint8Array(64);
    wpos = 0;
    digest = 0n;
    count = 0;
    slide(1);
    pre = p.minSize - 64;
  };
  reset();
  let i = 0;
  while (i < data.length) {
    if (pre > 0) {
      const n = Math.min(pre, data.length - i);
      pre -= n;
      count += n;
      i += n;
      continue;
    }
    slide(data[i]!);
    count++;
    i++;
    if ((digest & mask) === 0n || count >= p.maxSize) {
      if (count < p.minSize) continue;
      chunks.push({ length: count, cut: digest });
      reset();
    }
  }
  if (count > 0) chunks.push({ length: count, cut: digest });
  return chunks;
}

/** Feeds `data` in pieces of the given sizes (cycled) and returns the chunk lengths. */
function lengthsWithSplits(data: Uint8Array, impl: ChunkerImplementation, sizes: number[], params?: ChunkerParams): number[] {
  const chunker = new Chunker(TEST_POL, { implementation: impl, params });
  const lengths: number[] = [];
  let chunkStart = 0;
  let off = 0;
  let k = 0;
  while (off < data.length) {
    const size = Math.min(sizes[k++ % sizes.length]!, data.length - off);
    for (const cut of chunker.push(data.subarray(off, off + size))) {
      lengths.push(off + cut - chunkStart);
      chunkStart = off + cut;
    }
    off += size;
  }
  const last = chunker.finish();
  if (last > 0) lengths.push(last);
  return lengths;
}

async function readerLengths(data: Uint8Array, impl: ChunkerImplementation, readSize: number, shortReads: number[], params?: ChunkerParams): Promise<{ lengths: number[]; hashes: string[] }> {
  const reader = new ChunkReader(TEST_POL, { implementation: impl, readSize, params });
  let off = 0;
  let k = 0;
  const read = async (into: Uint8Array) => {
    const n = Math.min(into.length, shortReads[k++ % shortReads.length]!, data.length - off);
    into.set(data.subarray(off, off + n));
    off += n;
    return n;
  };
  const lengths: number[] = [];
  const hashes: string[] = [];
  for await (const chunk of reader.chunks(read)) {
    lengths.push(chunk.length);
    hashes.push(sha256(chunk));
  }
  return { lengths, hashes };
}

describe("chunker: upstream test vectors", () => {
  it.each(IMPLS)("%s: all-zero input of 4 x MinSize gives 4 chunks of MinSize (chunker_test.go chunks2)", async (impl) => {
    const zeros = new Uint8Array(4 * MIN_SIZE);
    expect(chunkLengths(zeros, TEST_POL, { implementation: impl })).toEqual([MIN_SIZE, MIN_SIZE, MIN_SIZE, MIN_SIZE]);
    const { hashes } = await readerLengths(zeros, impl, 1 << 20, [1 << 20]);
    expect(hashes).toEqual(Array(4).fill("07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541"));
  });
});

describe("chunker: same boundaries as upstream's algorithm", () => {
  const small: ChunkerParams = { minSize: 4096, maxSize: 65536, averageBits: 12 };

  it.each(IMPLS)("%s matches a literal port of restic/chunker (small boundaries, many chunks, cut fingerprints)", (impl) => {
    const data = Buffer.concat([prng(1 << 20, 7), Buffer.alloc(100_000), textLike(300_000, 9), Buffer.alloc(70_000, 0x61)]);
    const ref = goReference(data, TEST_POL, small);
    expect(ref.length).toBeGreaterThan(50);
    expect(lengthsWithSplits(data, impl, [data.length], small)).toEqual(ref.map((c) => c.length));
  });

  it.each(IMPLS)("%s matches the literal port with restic's own boundaries", (impl) => {
    const data = Buffer.concat([prng(5 << 20, 11), textLike(3 << 20, 12)]);
    const ref = goReference(data, TEST_POL, RESTIC_PARAMS);
    expect(ref.length).toBeGreaterThanOrEqual(3);
    expect(chunkLengths(data, TEST_POL, { implementation: impl })).toEqual(ref.map((c) => c.length));
  });

  it("the cut fingerprint is the Rabin fingerprint of the chunk's last 64 bytes (what the cores rely on)", () => {
    const data = prng(600_000, 5);
    const ref = goReference(data, TEST_POL, small);
    const t = rabinTables(TEST_POL);
    let off = 0;
    for (const c of ref.slice(0, -1)) {
      off += c.length;
      let fp = 0n;
      for (const b of data.subarray(off - 64, off)) fp = ((fp << 8n) | BigInt(b)) ^ t.mod[Number(fp >> 45n)]!;
      expect(fp).toBe(c.cut);
      expect(fp & 0xfffn).toBe(0n);
    }
  });
});

describe("chunker: boundaries never depend on how the data is split", () => {
  const data = Buffer.concat([prng(9 << 20, 3), textLike(2 << 20, 4), Buffer.alloc(MIN_SIZE + 10)]);
  let expected: number[];
  beforeAll(() => {
    expected = chunkLengths(data, TEST_POL, { implementation: "js" });
    expect(expected.reduce((a, b) => a + b, 0)).toBe(data.length);
  });

  it.each(IMPLS)("%s: push() with odd buffer sizes", (impl) => {
    expect(chunkLengths(data, TEST_POL, { implementation: impl })).toEqual(expected);
    for (const sizes of [[1 << 16], [63, 64, 65, 1, 4093], [MIN_SIZE - 64, 1, 64, MIN_SIZE], [3 << 20], [(1 << 20) + 17, 9]]) {
      expect(lengthsWithSplits(data, impl, sizes)).toEqual(expected);
    }
  });

  it.each(IMPLS)("%s: ChunkReader with short reads and small read sizes", async (impl) => {
    for (const [readSize, short] of [
      [1 << 20, [1 << 20]],
      [64 * 1024, [1000, 64 * 1024, 7]],
      [3 << 20, [3 << 20, 100]],
    ] as Array<[number, number[]]>) {
      expect((await readerLengths(data, impl, readSize, short)).lengths).toEqual(expected);
    }
  });

  it.each(IMPLS)("%s: edge lengths around MinSize and MaxSize", async (impl) => {
    for (const size of [0, 1, 63, 64, MIN_SIZE - 65, MIN_SIZE - 64, MIN_SIZE - 63, MIN_SIZE - 1, MIN_SIZE, MIN_SIZE + 1, MAX_SIZE - 1, MAX_SIZE, MAX_SIZE + 1]) {
      const d = Buffer.alloc(size, 0x5a); // constant data: the fingerprint never has its low 20 bits clear
      const lengths = chunkLengths(d, TEST_POL, { implementation: impl });
      const want = size === 0 ? [] : size <= MAX_SIZE ? [size] : [MAX_SIZE, size - MAX_SIZE];
      expect(lengths, `size ${size}`).toEqual(want);
      expect((await readerLengths(d, impl, 1 << 20, [1 << 20])).lengths, `size ${size}`).toEqual(want);
    }
  });
});

describe("chunker: a reader is reusable and refuses two files at once", () => {
  it("yields chunks of consecutive files and rejects a second concurrent file", async () => {
    const reader = new ChunkReader(TEST_POL);
    const one = async (data: Buffer) => {
      let off = 0;
      const out: number[] = [];
      for await (const c of reader.chunks(async (into) => {
        const n = Math.min(into.length, data.length - off);
        into.set(data.subarray(off, off + n));
        off += n;
        return n;
      }))
        out.push(c.length);
      return out;
    };
    expect(await one(Buffer.alloc(10))).toEqual([10]);
    expect(await one(Buffer.alloc(0))).toEqual([]);
    expect(await one(Buffer.alloc(3 * MIN_SIZE))).toEqual([MIN_SIZE, MIN_SIZE, MIN_SIZE]);
    const gen = reader.chunks(async (into) => into.fill(0).length); // an endless file of zeros
    expect((await gen.next()).value).toHaveLength(MIN_SIZE);
    await expect(reader.chunks(async () => 0).next()).rejects.toThrow(/already reading/);
    await gen.return(undefined);
  });
});

describe("chunker: identical blob IDs with restic 0.14", () => {
  let repo: ResticRepo;
  let pol: string;
  const files: Record<string, Buffer> = {};
  let contentOf: Record<string, string[]> = {};

  beforeAll(async () => {
    repo = await initResticRepo();
    pol = await repo.polynomial();
    const random = prng(5 << 20, 21);
    files["empty"] = Buffer.alloc(0);
    files["small.txt"] = Buffer.from("hello restic\n");
    files["below-min"] = prng(MIN_SIZE - 64, 22);
    files["exactly-min"] = prng(MIN_SIZE, 23);
    files["random-5m"] = random;
    files["random-5m-shifted"] = Buffer.concat([Buffer.from([0x42]), random]);
    files["text-3m"] = textLike(3 << 20, 24);
    files["low-entropy-30m"] = Buffer.alloc(30 << 20, "restic! "); // 8-byte period: no fingerprint cut, MaxSize chunks
    files["zeros-2m"] = Buffer.alloc(2 << 20);
    const dir = path.join(repo.dir, "data");
    mkdirSync(dir);
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
    const { tree } = await repo.backup(dir);
    const { nodes } = await repo.tree(tree);
    contentOf = Object.fromEntries(nodes.map((n) => [n.name as string, n.content as string[]]));
  });
  afterAll(() => repo?.close());

  it.each(IMPLS)("%s: every file's chunks hash to restic's content IDs", async (impl) => {
    for (const [name, data] of Object.entries(files)) {
      const reader = new ChunkReader(pol, { implementation: impl });
      const fh = await open(path.join(repo.dir, "data", name));
      const ids: string[] = [];
      try {
        for await (const chunk of reader.chunks(readFromFileHandle(fh))) ids.push(sha256(chunk));
      } finally {
        await fh.close();
      }
      expect(ids, name).toEqual(contentOf[name]);
      // The in-memory front end agrees.
      let prev = 0;
      const viaPush = chunkLengths(data, pol, { implementation: impl }).map((len) => sha256(data.subarray(prev, (prev += len))));
      expect(viaPush, name).toEqual(contentOf[name]);
    }
    expect(contentOf["empty"]).toEqual([]);
    expect(contentOf["low-entropy-30m"]!.length).toBe(4); // 3 x MaxSize + rest
  });

  it("a one-byte shift changes only the chunks before the first boundary (content-defined)", () => {
    const a = contentOf["random-5m"]!;
    const b = contentOf["random-5m-shifted"]!;
    expect(a.length).toBeGreaterThan(1);
    expect(b.slice(1)).toEqual(a.slice(1));
    expect(b[0]).not.toBe(a[0]);
  });
});
