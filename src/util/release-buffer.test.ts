import { describe, expect, it } from "vitest";
import { createDecipheriv } from "node:crypto";
import { claimHandedOver, freeHandedOver, handOver, Lease, ownsWholeBuffer, releaseBuffer } from "./release-buffer.js";

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

  it("frees a small buffer with memory of its own (a cipher's output) at once", () => {
    const d = createDecipheriv("aes-256-ctr", Buffer.alloc(32), Buffer.alloc(16));
    const out = d.update(Buffer.alloc(1000));
    expect(out.buffer.byteLength).toBe(1000); // its own memory, not a slice of the pool
    releaseBuffer(out);
    expect(out.length).toBe(0);
  });
});

describe("ownsWholeBuffer", () => {
  it("is true only for the one view of a whole ArrayBuffer (not a pool slice, a subarray or shared memory)", () => {
    expect(ownsWholeBuffer(Buffer.allocUnsafeSlow(1000))).toBe(true);
    expect(ownsWholeBuffer(Buffer.from("pooled"))).toBe(false);
    expect(ownsWholeBuffer(Buffer.allocUnsafeSlow(1000).subarray(0, 10))).toBe(false);
    expect(ownsWholeBuffer(Buffer.allocUnsafeSlow(1000).subarray(10))).toBe(false);
    expect(ownsWholeBuffer(new Uint8Array(new SharedArrayBuffer(16)))).toBe(false);
  });
});

describe("handOver / freeHandedOver", () => {
  it("frees what its producer handed over, once, and nothing else", () => {
    const given = handOver(Buffer.alloc(2000, 1));
    const kept = Buffer.alloc(2000, 2);
    freeHandedOver(given);
    freeHandedOver(kept);
    expect([given.length, kept.length]).toEqual([0, 2000]);
    expect(() => freeHandedOver(given)).not.toThrow(); // a second call is harmless
  });

  it("a view of a handed-over buffer frees nothing (a later stage's slice cannot free what another still reads)", () => {
    const given = handOver(Buffer.alloc(3000, 4));
    const view = given.subarray(0, 1000);
    freeHandedOver(view);
    expect([claimHandedOver(view), view.length, given.length]).toEqual([false, 1000, 3000]);
    expect(claimHandedOver(given)).toBe(true); // the producer's own object is still the one to take over
    expect(claimHandedOver(given)).toBe(false);
  });

  it("a pooled slice handed over by mistake is left intact (the pool cannot be detached)", () => {
    const a = handOver(Buffer.from("abc"));
    const b = Buffer.from("def");
    freeHandedOver(a);
    expect([a.toString(), b.toString()]).toEqual(["abc", "def"]);
  });
});

describe("Lease", () => {
  it("frees the buffer once its holder let go and every view lent was freed, in either order", () => {
    for (const holderFirst of [true, false]) {
      const buf = Buffer.alloc(4096, 5);
      const lease = new Lease(buf);
      const a = lease.lend(0, 1000);
      const b = lease.lend(1000, 4096);
      expect([a.length, b.length, a[0], b[3095]]).toEqual([1000, 3096, 5, 5]);
      if (holderFirst) lease.release();
      freeHandedOver(a);
      expect(buf.length).toBe(4096); // b still reads it
      freeHandedOver(b);
      if (!holderFirst) {
        expect(buf.length).toBe(4096); // the holder may still cut views
        lease.release();
      }
      expect([buf.length, a.length, b.length]).toEqual([0, 0, 0]);
    }
  });

  it("a view never freed keeps the buffer (left to the collector); a view freed twice counts once", () => {
    const buf = Buffer.alloc(4096, 6);
    const lease = new Lease(buf);
    const a = lease.lend(0, 10);
    const b = lease.lend(10, 20);
    lease.release();
    freeHandedOver(a);
    freeHandedOver(a);
    expect(buf.length).toBe(4096);
    expect(b.toString("hex")).toBe("06".repeat(10));
  });

  it("a slice cut from a lent view frees nothing", () => {
    const buf = Buffer.alloc(4096, 7);
    const lease = new Lease(buf);
    const a = lease.lend(0, 100);
    lease.release();
    freeHandedOver(a.subarray(0, 50));
    expect(buf.length).toBe(4096);
    freeHandedOver(a);
    expect(buf.length).toBe(0);
  });
});
