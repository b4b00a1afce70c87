import { describe, expect, it } from "vitest";
import { BodyCollector, MAX_PREALLOCATED_BODY, PieceCollector } from "./body-collector.js";

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

describe("PieceCollector", () => {
  it("hands each piece out once complete, in a buffer of its own, whatever the chunks; skipped ones as undefined", () => {
    const whole = bytes(10_000, 9);
    const lengths = [1, 2_999, 1000, 6000];
    const skip = [false, false, true, false];
    for (const chunk of [1, 7, 4096, 10_000]) {
      const got: [number, Buffer | undefined][] = [];
      const c = new PieceCollector({ lengths, skip, onPiece: (i, p) => got.push([i, p]) });
      for (let at = 0; at < whole.length; at += chunk) {
        c.add(whole.subarray(at, at + chunk));
        // Nothing of a piece is offered before its last byte.
        expect(got.reduce((n, [i]) => n + lengths[i]!, 0)).toBeLessThanOrEqual(Math.min(at + chunk, whole.length));
      }
      expect(got.map(([i]) => i)).toEqual([0, 1, 2, 3]);
      expect(got[2]![1]).toBeUndefined();
      expect(got[0]![1]!.equals(whole.subarray(0, 1))).toBe(true);
      expect(got[1]![1]!.equals(whole.subarray(1, 3000))).toBe(true);
      expect(got[3]![1]!.equals(whole.subarray(4000))).toBe(true);
      expect(got[3]![1]!.buffer.byteLength).toBe(6000);
    }
  });

  it("a short answer stops at the last complete piece; a long one's bytes beyond the last piece are dropped", () => {
    const got: number[] = [];
    const short = new PieceCollector({ lengths: [10, 10], onPiece: (i) => got.push(i) });
    short.add(bytes(15));
    expect(got).toEqual([0]);
    const pieces: (Buffer | undefined)[] = [];
    const long = new PieceCollector({ lengths: [10], onPiece: (_i, p) => pieces.push(p) });
    long.add(bytes(11));
    long.add(bytes(5, 2));
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.equals(bytes(10))).toBe(true);
  });
});
