import { describe, expect, it } from "vitest";
import { degreeOf, parsePolynomial, rabinTables } from "./tables.js";

describe("rabin tables", () => {
  it("parses the config's hex polynomial and rejects what restic's chunker cannot use", () => {
    expect(parsePolynomial("3da3358b4dc173")).toBe(0x3da3358b4dc173n);
    expect(parsePolynomial("0x3DA3358B4DC173")).toBe(0x3da3358b4dc173n);
    expect(parsePolynomial(0x3da3358b4dc173n)).toBe(0x3da3358b4dc173n);
    expect(() => parsePolynomial("zz")).toThrow(/not a hex number/);
    expect(() => parsePolynomial(1n << 60n)).toThrow(/degree 60/);
    expect(() => parsePolynomial("7f")).toThrow(/degree 6/);
  });

  it("builds out/mod tables with the properties restic's fillTables gives them", () => {
    const pol = 0x3da3358b4dc173n;
    const t = rabinTables(pol);
    expect(t.degree).toBe(53);
    expect(t.polShift).toBe(45);
    expect(t.out[0]).toBe(0n);
    expect(t.mod[0]).toBe(0n);
    for (let b = 0; b < 256; b++) {
      // mod[b] cancels the 8 overflow bits exactly and leaves a remainder below the degree.
      expect(t.mod[b]! >> 53n).toBe(BigInt(b));
      expect(degreeOf(t.mod[b]! & ((1n << 53n) - 1n))).toBeLessThan(53);
      expect(degreeOf(t.out[b]!)).toBeLessThan(53);
      expect((BigInt(t.outHi[b]!) << 32n) | BigInt(t.outLo[b]!)).toBe(t.out[b]);
      expect((BigInt(t.modHi[b]!) << 32n) | BigInt(t.modLo[b]!)).toBe(t.mod[b]);
    }
    expect(rabinTables("3da3358b4dc173")).toBe(t); // cached per polynomial
  });
});
