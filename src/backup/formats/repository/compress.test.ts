// zstd input of several frames decodes whole, as restic's decoder (klauspost DecodeAll) reads it: Node's zstd alone
// stops after the first frame and gives nothing for a leading skippable frame. The zstd command-line tool (which
// writes checksummed frames) makes some of the inputs.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { newRandomKey, seal } from "./crypto.js";
import { IntegrityError } from "./errors.js";
import { hashId } from "./ids.js";
import { releaseCompressContexts, releaseDecompressContext, zstdCompress, zstdCompressInto, zstdDecompress, zstdDecompressDocument, zstdFrameLength } from "./compress.js";
import { decodeBlob } from "./pack.js";

const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `line ${i} of a document\n`).join("").slice(0, n));
const skippable = (payload: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a5e, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
};

describe("zstdCompressInto (one long-lived context per level)", () => {
  it("writes one whole frame per call, each decoding alone, into the room given", () => {
    const room = Buffer.alloc(1 << 20);
    for (const input of [text(300), text(70_000), text(1_000_000), Buffer.alloc(300_000)]) {
      const n = zstdCompressInto(input, room.subarray(0, input.length), 3);
      expect(n, `${input.length} bytes`).toBeLessThan(input.length);
      const frame = Buffer.from(room.subarray(0, n));
      expect(zstdFrameLength(frame, 0)).toBe(frame.length);
      expect(zstdDecompress(frame, input.length, true).equals(input)).toBe(true);
      expect(zlib.zstdDecompressSync(frame).equals(input)).toBe(true);
    }
  });

  it("gives up when the frame would not be shorter, and the next frame is whole all the same", () => {
    const room = Buffer.alloc(1 << 20);
    const noise = randomBytes(200_000);
    expect(zstdCompressInto(noise, room.subarray(0, noise.length), 3)).toBeUndefined();
    const a = text(50_000);
    // Exactly as long as the frame: not shorter, so refused as well.
    const exact = zstdCompress(a).length;
    expect(zstdCompressInto(a, room.subarray(0, exact - 20), 3)).toBeUndefined();
    const n = zstdCompressInto(a, room.subarray(0, a.length), 3)!;
    expect(zstdDecompress(room.subarray(0, n), a.length, true).equals(a)).toBe(true);
    // Another level has its own context.
    const m = zstdCompressInto(a, room.subarray(0, a.length), 1)!;
    expect(zstdDecompress(room.subarray(0, m), a.length, true).equals(a)).toBe(true);
    // Released at the end of a run, made again when needed.
    releaseCompressContexts();
    const k = zstdCompressInto(a, room.subarray(0, a.length), 3)!;
    expect(zstdDecompress(room.subarray(0, k), a.length, true).equals(a)).toBe(true);
  });
});

describe("zstdDecompress of a blob (one long-lived context)", () => {
  it("decodes blob after blob, and a bad frame between them spoils none of the next ones", () => {
    const blobs = [text(300), text(70_000), randomBytes(5_000), text(1_000_000), Buffer.alloc(300_000), text(1)];
    const good = (b: Buffer) => expect(zstdDecompress(zstdCompress(b), b.length, true).equals(b), `${b.length} bytes`).toBe(true);
    for (const b of blobs) good(b);
    const a = text(200_000);
    const frame = zstdCompress(a);
    // Cut short (the first blocks decode, the frame never ends), longer than the index says, shorter than it says,
    // not zstd at all: none gives the expected bytes, and the next blob decodes right. (Bytes after a whole frame are
    // not looked at, as before: the blob's hash is what proves its content, pack.ts.)
    const bad: [Buffer, number][] = [
      [frame.subarray(0, frame.length >> 1), a.length],
      [frame, a.length - 1],
      [frame, a.length + 1],
      [Buffer.from("not a zstd frame at all"), 100],
    ];
    for (const [input, length] of [...bad, [Buffer.concat([frame, Buffer.from("junk")]), a.length] as [Buffer, number]]) {
      let out: Buffer | undefined;
      try {
        out = zstdDecompress(input, length, true);
      } catch {
        // refused: fine
      }
      if (out && bad.some(([i]) => i === input)) expect(out.length === length && out.equals(a.subarray(0, length))).toBe(false);
      for (const b of blobs) good(b);
    }
    // A frame whose blocks all came out but whose end is missing: its bytes are right, and the next blob still is.
    const small = text(10_000);
    const cut = zstdCompress(small, 3);
    const out = (() => {
      try {
        return zstdDecompress(cut.subarray(0, cut.length - 1), small.length, true);
      } catch {
        return undefined;
      }
    })();
    if (out) expect(out.equals(small)).toBe(true);
    for (const b of blobs) good(b);
  });

  it("gives its output a buffer of its own, and is made again after being released", () => {
    const a = text(5_000);
    const out = zstdDecompress(zstdCompress(a), a.length, true);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBeGreaterThanOrEqual(a.length); // never a slice of Node's shared pool
    expect(out.buffer.byteLength).toBeLessThanOrEqual(a.length + 1);
    releaseDecompressContext();
    expect(zstdDecompress(zstdCompress(a), a.length, true).equals(a)).toBe(true);
  });
});

describe("zstd frames", () => {
  it("measures whole frames: raw, RLE and compressed blocks, several blocks, checksums, skippable frames", () => {
    const inputs = [Buffer.alloc(0), Buffer.alloc(300_000), randomBytes(300_000), text(1_000_000), text(10)];
    for (const input of inputs) {
      const ours = zstdCompress(input);
      expect(zstdFrameLength(ours, 0), `${input.length} bytes`).toBe(ours.length);
      const checked = zlib.zstdCompressSync(input, { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1, [zlib.constants.ZSTD_c_contentSizeFlag]: 0 } });
      expect(zstdFrameLength(checked, 0), `${input.length} bytes, checksum`).toBe(checked.length);
      expect(zstdFrameLength(checked.subarray(0, checked.length - 1), 0)).toBeUndefined();
    }
    const skip = skippable(Buffer.from("metadata"));
    expect(zstdFrameLength(Buffer.concat([Buffer.alloc(3), skip]), 3)).toBe(skip.length);
    expect(zstdFrameLength(Buffer.from('{"not":"zstd"}'), 0)).toBeUndefined();
  });

  it("decodes every frame of a document and of a blob, skippable frames left out", () => {
    const a = text(70_000);
    const b = randomBytes(200_000);
    const c = text(5);
    const frames = Buffer.concat([skippable(Buffer.from("x")), zstdCompress(a), zstdCompress(b), skippable(Buffer.alloc(0)), zstdCompress(c)]);
    const whole = Buffer.concat([a, b, c]);
    expect(zlib.zstdDecompressSync(frames).length).toBe(0); // what Node alone gives
    expect(zstdDecompressDocument(frames, 1 << 20).equals(whole)).toBe(true);
    expect(zstdDecompress(frames, whole.length, true).equals(whole)).toBe(true);
    // A single frame takes the one-pass path as before; a cap still holds across frames.
    expect(zstdDecompressDocument(zstdCompress(a), 1 << 20).equals(a)).toBe(true);
    expect(() => zstdDecompressDocument(frames, 100_000)).toThrow();
  });

  it("reads what the zstd tool writes: two files compressed one after the other into one stream", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zstd-frames-"));
    const one = text(50_000);
    const two = text(123_456);
    writeFileSync(path.join(dir, "one"), one);
    writeFileSync(path.join(dir, "two"), two);
    const stream = execFileSync("zstd", ["-q", "-c", path.join(dir, "one"), path.join(dir, "two")], { maxBuffer: 1 << 24 });
    expect(zstdFrameLength(stream, 0)).toBeLessThan(stream.length);
    expect(zstdDecompressDocument(stream, 1 << 20).equals(Buffer.concat([one, two]))).toBe(true);
  });

  it("a blob stored as two frames verifies and decodes; a truncated second frame is reported as damaged", () => {
    const key = newRandomKey();
    const plain = Buffer.concat([text(40_000), randomBytes(30_000)]);
    const two = Buffer.concat([zstdCompress(plain.subarray(0, 40_000)), zstdCompress(plain.subarray(40_000))]);
    const sealed = seal(key, two);
    const blob = { type: "data" as const, id: hashId(plain), offset: 0, length: sealed.length, uncompressedLength: plain.length };
    expect(decodeBlob(key, blob, sealed, "a".repeat(64)).equals(plain)).toBe(true);
    const cut = seal(key, two.subarray(0, two.length - 10));
    expect(() => decodeBlob(key, { ...blob, length: cut.length }, cut, "a".repeat(64))).toThrow(IntegrityError);
  });
});
