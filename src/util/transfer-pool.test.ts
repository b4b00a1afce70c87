import { describe, expect, it } from "vitest";
import { sizeClass, TransferPool } from "./transfer-pool.js";

describe("TransferPool", () => {
  it("rounds sizes up to powers of two from 16 KiB", () => {
    expect(sizeClass(0)).toBe(16 << 10);
    expect(sizeClass(16 << 10)).toBe(16 << 10);
    expect(sizeClass((16 << 10) + 1)).toBe(32 << 10);
    expect(sizeClass(8 << 20)).toBe(8 << 20);
  });

  it("gives a returned buffer out again for a chunk of the same class, and a new one otherwise", () => {
    const pool = new TransferPool();
    const a = pool.take(20_000);
    expect(a.byteLength).toBe(32 << 10);
    pool.give(a);
    expect(pool.kept).toBe(32 << 10);
    expect(pool.take(30_000)).toBe(a);
    expect(pool.kept).toBe(0);
    const b = pool.take(30_000);
    expect(b).not.toBe(a);
    expect(pool.take(100)).not.toBe(a);
  });

  it("keeps at most its limits and frees the rest (and anything not of its sizes)", () => {
    const pool = new TransferPool(64 << 10, 2);
    const taken = [pool.take(1), pool.take(1), pool.take(1), pool.take(40_000)];
    for (const ab of taken) pool.give(ab);
    // Two of 16 KiB kept (the class's limit), the third freed; the 64 KiB one would pass the byte limit: freed.
    expect(pool.kept).toBe(32 << 10);
    expect(taken[2]!.detached).toBe(true);
    expect(taken[3]!.detached).toBe(true);
    const odd = new ArrayBuffer(1000);
    pool.give(odd);
    expect(odd.detached).toBe(true);
    pool.clear();
    expect(pool.kept).toBe(0);
    expect(taken[0]!.detached).toBe(true);
  });
});
