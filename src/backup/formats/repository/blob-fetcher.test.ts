import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { freeHandedOver } from "../../../util/release-buffer.js";
import { BlobFetcher, pieceLayout } from "./blob-fetcher.js";
import { newRandomKey } from "./crypto.js";
import { IntegrityError } from "./errors.js";
import { hashId } from "./ids.js";
import { type BlobLocation, MasterIndex } from "./index.js";
import { PackWriter, encodeBlob } from "./pack.js";
import type { ByteRange, LoadOptions, Storage } from "./storage.js";

/** An in-memory repository of data packs, recording every ranged read. */
function fixture(packs: Buffer[][], opts: { delayMs?: number } = {}) {
  const key = newRandomKey();
  const index = new MasterIndex();
  const files = new Map<string, Buffer>();
  const ids: string[][] = [];
  for (const blobs of packs) {
    const w = new PackWriter(key, "data");
    const list: string[] = [];
    for (const b of blobs) {
      const id = hashId(b);
      const { sealed, uncompressedLength } = encodeBlob(key, b, true);
      w.add(id, sealed, uncompressedLength);
      list.push(id);
    }
    const p = w.finalize();
    files.set(p.id, Buffer.concat(p.parts));
    index.addPack(p.id, p.blobs);
    ids.push(list);
  }
  const reads: { pack: string; range: ByteRange }[] = [];
  const handedOut: Buffer[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const storage = {
    location: "memory",
    async load(_type: string, name: string, range?: ByteRange) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      reads.push({ pack: name, range: range! });
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
      inFlight--;
      const f = files.get(name)!;
      // A new buffer, as a real transport hands out (the fetcher frees it once decoded).
      const out = Buffer.from(range ? f.subarray(range.offset, range.offset + range.length) : f);
      handedOut.push(out);
      return out;
    },
  } as unknown as Storage;
  return { source: { storage, key, index }, ids, reads, files, handedOut, maxInFlight: () => maxInFlight };
}

/** Incompressible bytes whose first byte is n. */
const blob = (n: number, size = 1000) => {
  const b = randomBytes(size);
  b[0] = n;
  return b;
};

describe("BlobFetcher", () => {
  it("reads neighbouring blobs of one pack with one request and hands them out in order, verified", async () => {
    const f = fixture([[blob(1), blob(2), blob(3), blob(4)]]);
    const fetcher = new BlobFetcher(f.source);
    const tickets = f.ids[0]!.map((id) => fetcher.push("data", id));
    const got: number[] = [];
    for (const t of tickets) {
      got.push((await t.take())[0]!);
      t.release();
    }
    expect(got).toEqual([1, 2, 3, 4]);
    expect(f.reads).toHaveLength(1);
    expect(fetcher.queued).toBe(0);
  });

  /** A transport that hands a read out in its pieces (as the rclone one does), `before` awaited ahead of each. */
  const piecewise = (f: ReturnType<typeof fixture>, before: (index: number) => Promise<void> | void, fail?: { after: number; err: Error }) =>
    (async (_type: string, name: string, range: ByteRange, opts: LoadOptions) => {
      const bytes = f.files.get(name)!.subarray(range.offset, range.offset + range.length);
      const { lengths, skip, onPiece } = opts.pieces!;
      let at = 0;
      for (let i = 0; i < lengths.length; i++) {
        if (fail && i === fail.after) throw fail.err;
        await before(i);
        onPiece(i, skip?.[i] ? undefined : Buffer.from(bytes.subarray(at, at + lengths[i]!)));
        at += lengths[i]!;
      }
      return Buffer.alloc(0);
    }) as never;

  it("takes a read's first pieces while the rest still arrives, and frees each piece once its blobs are decoded", async () => {
    const f = fixture([[blob(1, 600_000), blob(2, 600_000), blob(3, 600_000), blob(4, 600_000)]]);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const pieces: Buffer[] = [];
    const load = piecewise(f, (i) => (i === 2 ? gate : undefined));
    f.source.storage.load = ((...args: Parameters<typeof load>) => {
      const opts = args[3] as LoadOptions;
      // One blob per piece (two of 600 kB pass 1 MiB); each piece's buffer recorded.
      expect(opts.pieces!.lengths).toHaveLength(4);
      const onPiece = opts.pieces!.onPiece;
      return (load as (...a: unknown[]) => Promise<Buffer>)(args[0], args[1], args[2], { ...opts, pieces: { ...opts.pieces!, onPiece: (i: number, p?: Buffer) => (pieces.push(p!), onPiece(i, p)) } });
    }) as never;
    const fetcher = new BlobFetcher(f.source, { maxReadBytes: 16 << 20 });
    const tickets = f.ids[0]!.map((id) => fetcher.push("data", id));
    expect((await tickets[0]!.take())[0]).toBe(1);
    expect((await tickets[1]!.take())[0]).toBe(2);
    // Decoded: their pieces are freed at once, while the read goes on.
    expect(pieces.map((p) => p.length)).toEqual([0, 0]);
    tickets[0]!.release();
    tickets[1]!.release();
    let third = false;
    const taking = tickets[2]!.take().finally(() => (third = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBe(false);
    open();
    expect((await taking)[0]).toBe(3);
    expect((await tickets[3]!.take())[0]).toBe(4);
    for (const t of tickets.slice(2)) t.release();
    expect(fetcher.stats).toEqual({ reads: 1, bytes: f.ids[0]!.reduce((n, id) => n + f.source.index.lookup("data", id)[0]!.length, 0) });
    fetcher.close();
  });

  it("a read that fails after handing its first piece out: that blob is good, the rest fail with the transport's error", async () => {
    const f = fixture([[blob(1, 700_000), blob(2, 700_000)]]);
    f.source.storage.load = piecewise(f, () => new Promise((r) => setTimeout(r, 2)), { after: 1, err: new Error("the remote went away") });
    const fetcher = new BlobFetcher(f.source);
    const [one, two] = f.ids[0]!.map((id) => fetcher.push("data", id));
    expect((await one!.take())[0]).toBe(1);
    await expect(two!.take()).rejects.toThrow("the remote went away");
    fetcher.close();
    // And one that fails before any byte came.
    f.source.storage.load = (() => Promise.reject(new Error("refused"))) as never;
    const again = new BlobFetcher(f.source);
    await expect(again.push("data", f.ids[0]![1]!).take()).rejects.toThrow("refused");
    again.close();
    // And an answer that ends early: what came is used, the rest is named as missing from the pack.
    const short = fixture([[blob(3, 700_000), blob(4, 700_000)]]);
    const full = piecewise(short, () => {});
    short.source.storage.load = (async (type: string, name: string, range: ByteRange, opts: LoadOptions) =>
      (full as (...a: unknown[]) => Promise<Buffer>)(type, name, range, { ...opts, pieces: { ...opts.pieces!, onPiece: (i: number, p?: Buffer) => i === 0 && opts.pieces!.onPiece(i, p) } })) as never;
    const cut = new BlobFetcher(short.source);
    const [three, four] = short.ids[0]!.map((id) => cut.push("data", id));
    expect((await three!.take())[0]).toBe(3);
    await expect(four!.take()).rejects.toThrow(/is shorter than its index says/);
    cut.close();
  });

  it("a retry hands the pieces out again: those already in are ignored (and freed), the rest are used", async () => {
    const f = fixture([[blob(1, 700_000), blob(2, 700_000), blob(3, 700_000)]]);
    const again: Buffer[] = [];
    f.source.storage.load = (async (_type: string, name: string, range: ByteRange, opts: LoadOptions) => {
      const bytes = f.files.get(name)!.subarray(range.offset, range.offset + range.length);
      const { lengths, onPiece } = opts.pieces!;
      onPiece(0, Buffer.from(bytes.subarray(0, lengths[0]!))); // the first attempt brings piece 0, then fails inside the transport
      let at = 0;
      for (let i = 0; i < lengths.length; i++) {
        const piece = Buffer.from(bytes.subarray(at, at + lengths[i]!));
        if (i === 0) again.push(piece);
        onPiece(i, piece);
        at += lengths[i]!;
      }
      return Buffer.alloc(0);
    }) as never;
    const fetcher = new BlobFetcher(f.source);
    const got: number[] = [];
    for (const t of f.ids[0]!.map((id) => fetcher.push("data", id))) {
      got.push((await t.take())[0]!);
      t.release();
    }
    expect(got).toEqual([1, 2, 3]);
    expect(again[0]!.length).toBe(0); // the repeated piece was freed, not kept
    fetcher.close();
  });

  it("splits a read into pieces: runs of blobs up to 1 MiB, a larger blob alone, the gaps between wanted blobs skipped", () => {
    const at = (offset: number, length: number) => ({ loc: { offset, length } as BlobLocation });
    const slots = [at(100, 10), at(110, 20), at(200, 600_000), at(600_200, 600_000), at(1_200_200, 2 << 20), at(1_200_200 + (2 << 20), 5)];
    const layout = pieceLayout(slots, 100);
    expect(layout.lengths).toEqual([30, 70, 600_000, 600_000, 2 << 20, 5]);
    expect(layout.skip).toEqual([false, true, false, false, false, false]);
    expect(layout.offsets).toEqual([100, 130, 200, 600_200, 1_200_200, 1_200_200 + (2 << 20)]);
    expect(layout.blobs.map((b) => b.length)).toEqual([2, 0, 1, 1, 1, 1]);
    expect(layout.lengths.reduce((a, b) => a + b)).toBe(1_200_200 + (2 << 20) + 5 - 100);
  });

  it("tops the window up once it has drained to refillAt (one taken blob lets the next read start at 0.75, not at 0.5)", async () => {
    const readsAfterOneTaken = async (refillAt?: number) => {
      // Eight blobs of ~100 KB, each in a pack of its own (one read each); a window of four.
      const f = fixture(Array.from({ length: 8 }, (_, i) => [blob(i, 100_000)]));
      const size = f.source.index.lookup("data", f.ids[0]![0]!)[0]!.length;
      const fetcher = new BlobFetcher(f.source, { aheadBytes: 4 * size, ...(refillAt === undefined ? {} : { refillAt }) });
      const tickets = f.ids.map((ids) => fetcher.push("data", ids[0]!));
      expect((await tickets[0]!.take())[0]).toBe(0);
      await new Promise((r) => setTimeout(r, 20)); // the window's four reads are done
      expect(f.reads).toHaveLength(4);
      tickets[0]!.release();
      // A refill starts its read on the next turn: waited for up to 2 s (a loaded machine), else 50 ms of nothing.
      for (let waited = 0; waited < (refillAt === undefined ? 50 : 2000) && f.reads.length === 4; waited += 10) await new Promise((r) => setTimeout(r, 10));
      const reads = f.reads.length;
      for (const t of tickets.slice(1)) t.release();
      fetcher.close();
      return reads;
    };
    expect(await readsAfterOneTaken()).toBe(4); // default 0.5: three of four still held, nothing new
    expect(await readsAfterOneTaken(0.75)).toBe(5);
  });

  it("frees a read's memory as soon as the last blob of it is decoded or given up (not at a later collection)", async () => {
    const f = fixture([[blob(1, 100_000), blob(2, 100_000), blob(3, 100_000)]]);
    const fetcher = new BlobFetcher(f.source);
    const tickets = f.ids[0]!.map((id) => fetcher.push("data", id));
    expect((await tickets[0]!.take())[0]).toBe(1);
    tickets[0]!.release();
    expect(f.reads).toHaveLength(1);
    const read = f.handedOut[0]!;
    expect((read.buffer as ArrayBuffer).detached).toBe(false); // two more blobs are views of it
    expect((await tickets[1]!.take())[0]).toBe(2);
    tickets[1]!.release();
    tickets[2]!.release(); // given up without being taken
    expect((read.buffer as ArrayBuffer).detached).toBe(true);
    expect(fetcher.queued).toBe(0);
  });

  it("a blob pushed again after its only ticket took it (before that one is released) is read again, not lost", async () => {
    const f = fixture([[blob(7, 5000)]]);
    const fetcher = new BlobFetcher(f.source);
    const first = fetcher.push("data", f.ids[0]![0]!);
    expect((await first.take())[0]).toBe(7);
    // The same content in a file the tree walk reaches while the first file is still being written.
    const second = fetcher.push("data", f.ids[0]![0]!);
    first.release();
    expect((await second.take())[0]).toBe(7);
    second.release();
    expect(f.reads).toHaveLength(2);
    expect(fetcher.queued).toBe(0);
  });

  it("hands a blob taken alone over to its taker (it may free it), but never one that another ticket shares", async () => {
    const f = fixture([[blob(1, 3000), blob(2, 200_000), blob(3, 3000)]]);
    const fetcher = new BlobFetcher(f.source);
    const [small, large, shared] = f.ids[0]!.map((id) => fetcher.push("data", id));
    const sharedAgain = fetcher.push("data", f.ids[0]![2]!);
    for (const t of [small!, large!]) {
      const plain = await t.take();
      const size = plain.length;
      freeHandedOver(plain); // what the restore writer does once the bytes are on disk
      expect([size, plain.length]).toEqual([size, 0]); // its memory went at once, whatever its size
      t.release();
    }
    const a = await shared!.take();
    freeHandedOver(a);
    expect(a.length).toBe(3000); // the other ticket still gets these very bytes
    const b = await sharedAgain.take();
    expect(b).toBe(a);
    expect(b[0]).toBe(3);
    for (const t of [shared!, sharedAgain]) t.release();
  });

  it("keeps reads within the window and several in flight, never more than asked", async () => {
    const packs = Array.from({ length: 8 }, (_, p) => [blob(p * 2, 40_000), blob(p * 2 + 1, 40_000)]);
    const f = fixture(packs, { delayMs: 5 });
    const fetcher = new BlobFetcher(f.source, { aheadBytes: 100_000, reads: 3 });
    const tickets = f.ids.flat().map((id) => fetcher.push("data", id));
    // Nothing taken yet: only the window (100 kB ≈ 3 blobs of 40 kB → 2 packs) is read.
    await new Promise((r) => setTimeout(r, 30));
    expect(f.reads).toHaveLength(2);
    for (const t of tickets) {
      await t.take();
      t.release();
    }
    expect(f.reads.length).toBeLessThanOrEqual(16); // a pack cut by the window edge is read in two
    expect(f.maxInFlight()).toBeLessThanOrEqual(3);
  });

  it("a blob queued twice is read once; a blob taken beyond the window is read at once", async () => {
    const f = fixture([[blob(7, 50_000)], [blob(8, 50_000)]]);
    const fetcher = new BlobFetcher(f.source, { aheadBytes: 1 });
    const a = fetcher.push("data", f.ids[0]![0]!);
    const again = fetcher.push("data", f.ids[0]![0]!);
    const far = fetcher.push("data", f.ids[1]![0]!);
    expect((await far.take())[0]).toBe(8); // demanded out of order: no deadlock on a full window
    expect((await a.take())[0]).toBe(7);
    expect((await again.take())[0]).toBe(7);
    for (const t of [a, again, far]) t.release();
    expect(f.reads.map((r) => r.pack)).toHaveLength(2);
  });

  it("a damaged blob or one missing from the index fails its ticket, naming it", async () => {
    const f = fixture([[blob(1), blob(2)]]);
    const [pack] = [...f.files.keys()];
    const bytes = f.files.get(pack!)!;
    bytes[40] = bytes[40]! ^ 1; // inside the first blob's ciphertext
    const fetcher = new BlobFetcher(f.source);
    const t1 = fetcher.push("data", f.ids[0]![0]!);
    const t2 = fetcher.push("data", f.ids[0]![1]!);
    const missing = fetcher.push("data", hashId(Buffer.from("nope")));
    await expect(t1.take()).rejects.toThrow(new RegExp(`in pack data/${pack!.slice(0, 2)}/${pack} fails authentication`));
    expect((await t2.take())[0]).toBe(2);
    await expect(missing.take()).rejects.toBeInstanceOf(IntegrityError);
  });

  it("inserted tickets keep depth-first order: a child queued after its parent comes before the parent's next sibling", async () => {
    const f = fixture([[blob(1), blob(2), blob(3)]]);
    const fetcher = new BlobFetcher(f.source, { aheadBytes: 1, reads: 1 });
    const [a, b, child] = f.ids[0]!;
    const ta = fetcher.push("data", a!);
    const tb = fetcher.push("data", b!);
    const tc = fetcher.push("data", child!, ta); // between a and b
    await ta.take();
    ta.release();
    // With a one-byte window, only the head is read ahead: after a is released, the head is the child.
    await new Promise((r) => setTimeout(r, 10));
    const last = f.reads.at(-1)!;
    const loc = f.source.index.lookup("data", child!)[0]!;
    expect(last.range.offset).toBeLessThanOrEqual(loc.offset);
    expect(last.range.offset + last.range.length).toBeGreaterThanOrEqual(loc.offset + loc.length);
    for (const t of [tc, tb]) {
      await t.take();
      t.release();
    }
  });

  it("a decoder that dies (not the blob) costs a second read, decoded here: the data still arrives", async () => {
    const f = fixture([[blob(5), blob(6)]]);
    const dead = { decode: (_p: string, _b: Buffer, _o: number, blobs: readonly unknown[]) => blobs.map(() => Promise.reject(new Error("the blob decoder stopped"))), close: () => {} };
    const fetcher = new BlobFetcher(f.source, { decoder: dead });
    const ts = f.ids[0]!.map((id) => fetcher.push("data", id));
    expect((await ts[0]!.take())[0]).toBe(5);
    expect((await ts[1]!.take())[0]).toBe(6);
    expect(f.reads).toHaveLength(3); // the shared read, then each blob again
  });
});
