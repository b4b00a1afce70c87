// The staged encoder: inline for the first bytes of a run (a few changed files never start a thread), then on a
// worker thread once it has started; the sealed blobs decode to their plaintext whichever side made them. The worker
// is the built one (dist/): `npm test` builds first.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { newRandomKey } from "./crypto.js";
import { BATCH_BYTES, workerEncoder } from "./encode-pool.js";
import { hashId } from "./ids.js";
import { decodeBlob } from "./pack.js";

const WORKER = path.resolve("dist/backup/formats/repository/encode-worker.js");

describe("workerEncoder", () => {
  it("encodes inline up to its threshold, then on the thread once it is up, the same blobs either way", async () => {
    expect(existsSync(WORKER), "build first (npm test does)").toBe(true);
    const key = newRandomKey();
    const encoder = workerEncoder(key, 1 << 20, WORKER);
    // One buffer for every plaintext, as the chunker reuses its own: encode() copies what it keeps before it returns.
    const reader = Buffer.alloc(256 << 10);
    const roundTrip = async (plain: Buffer) => {
      const id = hashId(plain);
      plain.copy(reader);
      const encoding = encoder.encode(reader.subarray(0, plain.length), true, 3);
      reader.fill(0x55); // the next read overwrites it while the blob is being encoded
      const { sealed, uncompressedLength } = await encoding;
      const blob = { id, type: "data" as const, offset: 0, length: sealed.length, uncompressedLength };
      expect(decodeBlob(key, blob, sealed, "00".repeat(32)).equals(plain)).toBe(true);
    };
    const text = (i: number) => Buffer.alloc(64 << 10, `line ${i}\n`); // compressible
    for (let i = 0; i < 16; i++) await roundTrip(i % 2 ? randomBytes(64 << 10) : text(i));
    expect(encoder.mode()).toBe("inline"); // 1 MiB so far: no thread yet
    await roundTrip(text(16));
    expect(["starting", "thread"]).toContain(encoder.mode());
    const deadline = Date.now() + 10_000;
    while (encoder.mode() !== "thread" && Date.now() < deadline) {
      await roundTrip(text(17)); // encoded inline while the thread starts
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(encoder.mode()).toBe("thread");
    await Promise.all(Array.from({ length: 12 }, (_, i) => roundTrip(i % 3 ? text(100 + i) : randomBytes(200 << 10))));
    encoder.close();
    expect(encoder.mode()).toBe("inline");
  });

  it("sends small blobs in batches and answers each: many at once, one larger than a batch, one filling it exactly", async () => {
    const key = newRandomKey();
    const encoder = workerEncoder(key, 0, WORKER);
    const deadline = Date.now() + 10_000;
    while (encoder.mode() !== "thread" && Date.now() < deadline) {
      await encoder.encode(Buffer.from("warm up"), true, 3);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(encoder.mode()).toBe("thread");
    const plains = [
      ...Array.from({ length: 150 }, (_, i) => Buffer.from(`small file ${i}\n`.repeat(50 + i))),
      randomBytes(BATCH_BYTES + 1000),
      Buffer.alloc(BATCH_BYTES, "exact\n"),
      Buffer.alloc(0),
      ...Array.from({ length: 20 }, (_, i) => (i % 2 ? randomBytes(3000) : Buffer.from(`tail ${i}`.repeat(300)))),
    ];
    // All handed over before any answer is awaited, from one reused buffer as the chunker does.
    const reader = Buffer.alloc(BATCH_BYTES + 1000);
    const pending = plains.map((plain) => {
      plain.copy(reader);
      const p = encoder.encode(reader.subarray(0, plain.length), true, 3);
      reader.fill(0xaa);
      return p;
    });
    const answers = await Promise.all(pending);
    answers.forEach(({ sealed, uncompressedLength }, i) => {
      const plain = plains[i]!;
      const blob = { id: hashId(plain), type: "data" as const, offset: 0, length: sealed.length, uncompressedLength };
      expect(decodeBlob(key, blob, sealed, "00".repeat(32)).equals(plain), `blob ${i}`).toBe(true);
    });
    encoder.close();
  });

  it("stays on the calling thread when no worker file is there", async () => {
    const encoder = workerEncoder(newRandomKey(), 0, undefined);
    await encoder.encode(Buffer.from("x".repeat(1000)), true, 3);
    expect(encoder.mode()).toBe("inline");
    encoder.close();
  });
});
