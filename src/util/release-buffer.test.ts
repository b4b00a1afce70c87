import { describe, expect, it } from "vitest";
import { releaseBuffer } from "./release-buffer.js";

describe("releaseBuffer", () => {
  it("frees a large buffer's memory at once (arrayBuffers drops without a collection)", () => {
    const before = process.memoryUsage().arrayBuffers;
    const bufs = Array.from({ length: 32 }, () => Buffer.alloc(1 << 20, 1));
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(32 << 20);
    for (const b of bufs) releaseBuffer(b);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 << 20);
    expect(bufs[0]!.length).toBe(0);
  });

  it("leaves slices of Node's shared pool alone (its other slices stay intact)", () => {
    const a = Buffer.allocUnsafe(100).fill(7);
    const b = Buffer.allocUnsafe(Math.floor(Buffer.poolSize / 4)).fill(8);
    expect(a.buffer).toBe(b.buffer); // both from the pool
    releaseBuffer(a);
    releaseBuffer(b);
    expect(a.length).toBe(100);
    expect(b[0]).toBe(8);
  });

  it("is harmless on a buffer already released", () => {
    const a = Buffer.alloc(1 << 20);
    releaseBuffer(a);
    expect(() => releaseBuffer(a)).not.toThrow();
  });
});
