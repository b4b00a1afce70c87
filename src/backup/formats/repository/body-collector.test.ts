import { describe, expect, it } from "vitest";
import { BodyCollector, MAX_PREALLOCATED_BODY } from "./body-collector.js";

const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe("BodyCollector", () => {
  it("fills one buffer of the announced length, exactly that buffer handed out", () => {
    const whole = bytes(100_000);
    const c = new BodyCollector();
    c.expect(whole.length);
    for (let at = 0; at < whole.length; at += 16_384) c.add(whole.subarray(at, at + 16_384));
    const out = c.done();
    expect(out.equals(whole)).toBe(true);
    // Its own memory (a pack read is then transferred or freed whole).
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(whole.length);
  });

  it("tells how far the announced buffer is filled (the bytes a reader may use early), and nothing once it falls back to chunks", () => {
    const whole = bytes(50_000, 5);
    const c = new BodyCollector();
    expect(c.filling).toBeUndefined();
    c.expect(whole.length);
    c.add(whole.subarray(0, 20_000));
    const { buf, filled } = c.filling!;
    expect(filled).toBe(20_000);
    expect(buf.subarray(0, filled).equals(whole.subarray(0, 20_000))).toBe(true);
    c.add(whole.subarray(20_000));
    expect(c.filling!.filled).toBe(whole.length);
    expect(c.done()).toBe(buf);
    const longer = new BodyCollector();
    longer.expect(10);
    longer.add(whole.subarray(0, 11));
    expect(longer.filling).toBeUndefined();
  });

  it("keeps bytes that arrived before the headers", () => {
    const whole = bytes(40_000, 7);
    const c = new BodyCollector();
    c.add(whole.subarray(0, 3));
    c.expect(whole.length);
    c.add(whole.subarray(3));
    expect(c.done().equals(whole)).toBe(true);
  });

  it("a body longer or shorter than announced comes out as received (the caller's length checks decide)", () => {
    const whole = bytes(5000, 3);
    const longer = new BodyCollector();
    longer.expect(3000);
    longer.add(whole.subarray(0, 2000));
    longer.add(whole.subarray(2000));
    expect(longer.done().equals(whole)).toBe(true);

    const early = new BodyCollector();
    early.add(whole);
    early.expect(10);
    expect(early.done().equals(whole)).toBe(true);

    const shorter = new BodyCollector();
    shorter.expect(9000);
    shorter.add(whole);
    expect(shorter.done().equals(whole)).toBe(true);
  });

  it("joins chunks without a usable length (none, zero, nonsense, or too large to take on trust)", () => {
    for (const announced of [Number.NaN, 0, -5, 1.5, MAX_PREALLOCATED_BODY + 1]) {
      const c = new BodyCollector();
      c.expect(announced);
      c.add(bytes(10));
      c.add(bytes(20, 2));
      expect(c.done().equals(Buffer.concat([bytes(10), bytes(20, 2)])), String(announced)).toBe(true);
    }
    expect(new BodyCollector().done().length).toBe(0);
  });
});
