import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ResticRepo, initResticRepo } from "../testing/restic-oracle.js";
import { ChunkReader, Chunker, type ChunkerImplementation, chunkLengths, readFromFileHandle } from "./chunker.js";
import { goRandomBytes } from "../testing/go-math-rand.js";
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
function lengthsWithSplits(data: Uint8Array, impl: ChunkerImplementation, sizes: number[], params?: ChunkerParams, pol: bigint = TEST_POL): number[] {
  const chunker = new Chunker(pol, { implementation: impl, params });
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

// Upstream's random vectors (restic/chunker chunker_test.go): 32 MiB of Go math/rand Uint32() seeded with 23, polynomial
// 0x3DA3358B4DC173. Each row: length, cut fingerprint (the last chunk's is the digest at EOF), sha256.
type Vector = Array<[number, bigint, string]>;
const CHUNKS1: Vector = [
  [2163460, 0xb98d4cdf00000n, "4b94cb2cf293855ea43bf766731c74969b91aa6bf3c078719aabdd19860d590d"],
  [643703, 0xd4e8364d00000n, "5727a63c0964f365ab8ed2ccf604912f2ea7be29759a2b53ede4d6841e397407"],
  [1528956, 0x15a25c2ef00000n, "a73759636a1e7a2758767791c69e81b69fb49236c6929e5d1b654e06e37674ba"],
  [1955808, 0x102a8242e00000n, "c955fb059409b25f07e5ae09defbbc2aadf117c97a3724e06ad4abd2787e6824"],
  [2222372, 0x45da878000000n, "6ba5e9f7e1b310722be3627716cf469be941f7f3e39a4c3bcefea492ec31ee56"],
  [2538687, 0x198a8179900000n, "8687937412f654b5cfe4a82b08f28393a0c040f77c6f95e26742c2fc4254bfde"],
  [609606, 0x1d4e8d17100000n, "5da820742ff5feb3369112938d3095785487456f65a8efc4b96dac4be7ebb259"],
  [1205738, 0xa7204dd600000n, "cc70d8fad5472beb031b1aca356bcab86c7368f40faa24fe5f8922c6c268c299"],
  [959742, 0x183e71e1400000n, "4065bdd778f95676c92b38ac265d361f81bff17d76e5d9452cf985a2ea5a4e39"],
  [4036109, 0x1fec043c700000n, "b9cf166e75200eb4993fc9b6e22300a6790c75e6b0fc8f3f29b68a752d42f275"],
  [1525894, 0xb1574b1500000n, "2f238180e4ca1f7520a05f3d6059233926341090f9236ce677690c1823eccab3"],
  [1352720, 0x18965f2e00000n, "afd12f13286a3901430de816e62b85cc62468c059295ce5888b76b3af9028d84"],
  [811884, 0x155628aa100000n, "42d0cdb1ee7c48e552705d18e061abb70ae7957027db8ae8db37ec756472a70a"],
  [1282314, 0x1909a0a1400000n, "819721c2457426eb4f4c7565050c44c32076a56fa9b4515a1c7796441730eb58"],
  [1318021, 0x1cceb980000000n, "842eb53543db55bacac5e25cb91e43cc2e310fe5f9acc1aee86bdf5e91389374"],
  [948640, 0x11f7a470a00000n, "b8e36bf7019bb96ac3fb7867659d2167d9d3b3148c09fe0de45850b8fe577185"],
  [645464, 0x30ce2d9400000n, "5584bd27982191c3329f01ed846bfd266e96548dfa87018f745c33cfc240211d"],
  [533758, 0x4435c53c00000n, "4da778a25b72a9a0d53529eccfe2e5865a789116cb1800f470d8df685a8ab05d"],
  [1128303, 0xc48517800000n, "08c6b0b38095b348d80300f0be4c5184d2744a17147c2cba5cc4315abf4c048f"],
  [800374, 0x968473f900000n, "820284d2c8fd243429674c996d8eb8d3450cbc32421f43113e980f516282c7bf"],
  [2453512, 0x1e197c92600000n, "5fa870ed107c67704258e5e50abe67509fb73562caf77caa843b5f243425d853"],
  [2651975, 0xae6c868000000n, "181347d2bbec32bef77ad5e9001e6af80f6abcf3576549384d334ee00c1988d8"],
  [237392, 0x1n, "fcd567f5d866357a8e299fd5b2359bb2c8157c30395229c4e9b0a353944a7978"],
];
/** The same data with averageBits 19. */
const CHUNKS3: Vector = [
  [1491586, 0x23e586ea80000n, "4c008237df602048039287427171cef568a6cb965d1b5ca28dc80504a24bb061"],
  [671874, 0xb98d4cdf00000n, "fa8a42321b90c3d4ce9dd850562b2fd0c0fe4bdd26cf01a24f22046a224225d3"],
  [643703, 0xd4e8364d00000n, "5727a63c0964f365ab8ed2ccf604912f2ea7be29759a2b53ede4d6841e397407"],
  [1284146, 0x12b527e4780000n, "16d04cafecbeae9eaedd49da14c7ad7cdc2b1cc8569e5c16c32c9fb045aa899a"],
  [823366, 0xd1d6752180000n, "48662c118514817825ad4761e8e2e5f28f9bd8281b07e95dcafc6d02e0aa45c3"],
  [810134, 0x16071b6e180000n, "f629581aa05562f97f2c359890734c8574c5575da32f9289c5ba70bfd05f3f46"],
  [567118, 0x102a8242e00000n, "d4f0797c56c60d01bac33bfd49957a4816b6c067fc155b026de8a214cab4d70a"],
  [821315, 0x1b3e42c8180000n, "8ebd0fd5db0293bd19140da936eb8b1bbd3cd6ffbec487385b956790014751ca"],
  [1401057, 0x45da878000000n, "001360af59adf4871ef138cfa2bb49007e86edaf5ac2d6f0b3d3014510991848"],
  [2311122, 0x5cbd885380000n, "8276d489b566086d9da95dc5c5fe6fc7d72646dd3308ced6b5b6ddb8595f0aa1"],
  [608723, 0x1cfcd86f280000n, "518db33ba6a79d4f3720946f3785c05b9611082586d47ea58390fc2f6de9449e"],
  [980456, 0x13edb7a7f80000n, "0121b1690738395e15fecba1410cd0bf13fde02225160cad148829f77e7b6c99"],
  [1140278, 0x1f9f017e80000n, "28ca7c74804b5075d4f5eeb11f0845d99f62e8ea3a42b9a05c7bd5f2fca619dd"],
  [2015542, 0x97bf5d8180000n, "6fe8291f427d48650a5f0f944305d3a2dbc649bd401d2655fc0bdd42e890ca5a"],
  [904752, 0xe1863eff80000n, "62af1f1eb3f588d18aff28473303cc4731fc3cafcc52ce818fee3c4c2820854d"],
  [713072, 0x1f3bb1b9b80000n, "4bda9dc2e3031d004d87a5cc93fe5207c4b0843186481b8f31597dc6ffa1496c"],
  [675937, 0x1fec043c700000n, "5299c8c5acec1b90bb020cd75718aab5e12abb9bf66291465fd10e6a823a8b4a"],
  [1525894, 0xb1574b1500000n, "2f238180e4ca1f7520a05f3d6059233926341090f9236ce677690c1823eccab3"],
  [1352720, 0x18965f2e00000n, "afd12f13286a3901430de816e62b85cc62468c059295ce5888b76b3af9028d84"],
  [811884, 0x155628aa100000n, "42d0cdb1ee7c48e552705d18e061abb70ae7957027db8ae8db37ec756472a70a"],
  [1282314, 0x1909a0a1400000n, "819721c2457426eb4f4c7565050c44c32076a56fa9b4515a1c7796441730eb58"],
  [1093738, 0x17f5d048880000n, "5dddfa7a241b68f65d267744bdb082ee865f3c2f0d8b946ea0ee47868a01bbff"],
  [962003, 0xb921f7ef80000n, "0cb5c9ebba196b441c715c8d805f6e7143a81cd5b0d2c65c6aacf59ca9124af9"],
  [856384, 0x30ce2d9400000n, "7734b206d46f3f387e8661e81edf5b1a91ea681867beb5831c18aaa86632d7fb"],
  [533758, 0x4435c53c00000n, "4da778a25b72a9a0d53529eccfe2e5865a789116cb1800f470d8df685a8ab05d"],
  [1128303, 0xc48517800000n, "08c6b0b38095b348d80300f0be4c5184d2744a17147c2cba5cc4315abf4c048f"],
  [800374, 0x968473f900000n, "820284d2c8fd243429674c996d8eb8d3450cbc32421f43113e980f516282c7bf"],
  [2453512, 0x1e197c92600000n, "5fa870ed107c67704258e5e50abe67509fb73562caf77caa843b5f243425d853"],
  [665901, 0x118c842cb80000n, "deceec26163842fdef6560311c69bf8a9871a56e16d719e2c4b7e4d668ceb61f"],
  [1986074, 0xae6c868000000n, "64cd64bf3c3bc389eb20df8310f0427d1c36ab2eaaf09e346bfa7f0453fc1a18"],
  [237392, 0x1n, "fcd567f5d866357a8e299fd5b2359bb2c8157c30395229c4e9b0a353944a7978"],
];
/** The same data with boundaries 16 MiB .. 32 MiB. */
const CHUNKS4: Vector = [
  [17864181, 0x1fec043c700000n, "4a43d4eccaa3b88514f54d3becddc6ef5e06fbb2de8161b0129888dbae4430a7"],
  [15690251, 0x1n, "4ca32142da6f9130dc9a5d0df82a3c9e359cc4f1f480f4e52042ec0e8ecd3cc0"],
];

describe("chunker: upstream's random test vectors (Go math/rand, seed 23)", () => {
  let data: Buffer;
  beforeAll(() => {
    data = goRandomBytes(23, 32 * 1024 * 1024);
  });

  /** Lengths, digests and cut fingerprints (recomputed from each chunk's last 64 bytes) of one run. */
  function check(impl: ChunkerImplementation, params: ChunkerParams, vector: Vector): void {
    const lengths = chunkLengths(data, TEST_POL, { implementation: impl, params });
    expect(lengths).toEqual(vector.map((v) => v[0]));
    const t = rabinTables(TEST_POL);
    let off = 0;
    for (const [i, [len, cut, digest]] of vector.entries()) {
      const chunk = data.subarray(off, off + len);
      expect(sha256(chunk), `chunk ${i}`).toBe(digest);
      if (i < vector.length - 1) {
        let fp = 0n;
        for (const b of chunk.subarray(len - 64)) fp = ((fp << 8n) | BigInt(b)) ^ t.mod[Number(fp >> 45n)]!;
        expect(fp, `chunk ${i} cut`).toBe(cut);
      }
      off += len;
    }
  }

  it.each(IMPLS)("%s: chunks1 (restic's boundaries)", (impl) => check(impl, RESTIC_PARAMS, CHUNKS1));
  it.each(IMPLS)("%s: chunks3 (averageBits 19)", (impl) => check(impl, { ...RESTIC_PARAMS, averageBits: 19 }, CHUNKS3));
  it.each(IMPLS)("%s: chunks4 (16..32 MiB)", (impl) => check(impl, { minSize: 16 << 20, maxSize: 32 << 20, averageBits: 20 }, CHUNKS4));
  it("ChunkReader agrees with chunks1 for odd read sizes", async () => {
    for (const impl of IMPLS) {
      const { lengths, hashes } = await readerLengths(data, impl, 700_001, [700_001, 3, 65_536]);
      expect(lengths).toEqual(CHUNKS1.map((v) => v[0]));
      expect(hashes).toEqual(CHUNKS1.map((v) => v[2]));
    }
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

  it.each(IMPLS)("%s handles polynomials of lower degree like upstream (top byte straddling the 32-bit halves)", (impl) => {
    const data = prng(400_000, 8);
    for (const pol of [0x8000_0009n, 0x1_0000_0000_00c5n, 0x11dn]) {
      const ref = goReference(data, pol, small);
      expect(lengthsWithSplits(data, impl, [77_777], small, pol), pol.toString(16)).toEqual(ref.map((c) => c.length));
    }
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
    // A limit stops at that many bytes, without a read past it.
    let reads = 0;
    const limited: number[] = [];
    for await (const c of reader.chunks(async (into) => {
      reads++;
      return into.fill(0).length;
    }, MIN_SIZE + 10))
      limited.push(c.length);
    expect(limited).toEqual([MIN_SIZE, 10]);
    expect(reads).toBe(1);
    const small: number[] = [];
    for await (const c of reader.chunks(async (into) => into.fill(1, 0, 5).subarray(0, 5).length, 5)) small.push(c.length);
    expect(small).toEqual([5]);
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
    // 16 MiB: the repository's polynomial is random, and 5 MiB of random data had no boundary (one chunk) about once
    // in a hundred repositories; in 16 MiB the first 8 MiB (MaxSize) lack one with odds of ~e^-7.5.
    const random = prng(16 << 20, 21);
    files["empty"] = Buffer.alloc(0);
    files["small.txt"] = Buffer.from("hello restic\n");
    files["below-min"] = prng(MIN_SIZE - 64, 22);
    files["exactly-min"] = prng(MIN_SIZE, 23);
    files["random-16m"] = random;
    files["random-16m-shifted"] = Buffer.concat([Buffer.from([0x42]), random]);
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
    const a = contentOf["random-16m"]!;
    const b = contentOf["random-16m-shifted"]!;
    expect(a.length).toBeGreaterThan(1);
    expect(b.slice(1)).toEqual(a.slice(1));
    expect(b[0]).not.toBe(a[0]);
  });
});
