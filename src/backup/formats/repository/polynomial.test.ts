import { describe, expect, it } from "vitest";
import { isIrreducible, parsePolynomial, polynomialToHex, randomPolynomial } from "./polynomial.js";

describe("chunker polynomial", () => {
  it("agrees with restic/chunker's irreducibility table (polynomials_test.go)", () => {
    const table: [bigint, boolean][] = [
      [0x38f1e565e288dfn, false],
      [0x3da3358b4dc173n, true],
      [0x30a8295b9d5c91n, false],
      [0x255f4350b962cbn, false],
      [0x267f776110a235n, false],
      [0x2f4dae10d41227n, false],
      [0x2482734cacca49n, true],
      [0x312daf4b284899n, false],
      [0x29dfb6553d01d1n, false],
      [0x3548245eb26257n, false],
      [0x3199e7ef4211b3n, false],
      [0x362f39017dae8bn, false],
      [0x200d57aa6fdacbn, false],
      [0x35e0a4efa1d275n, false],
      [0x2ced55b026577fn, false],
      [0x260b012010893dn, false],
      [0x2df29cbcd59e9dn, false],
      [0x3f2ac7488bd429n, false],
      [0x3e5cb1711669fbn, false],
      [0x226d8de57a9959n, false],
      [0x3c8de80aaf5835n, false],
      [0x2026a59efb219bn, false],
      [0x39dfa4d13fb231n, false],
      [0x3143d0464b3299n, false],
    ];
    for (const [pol, want] of table) expect([pol.toString(16), isIrreducible(pol)]).toEqual([pol.toString(16), want]);
    expect(isIrreducible(0x25b468838dcb75n)).toBe(true); // the design document's example config
    expect(isIrreducible(0b111n)).toBe(true); // x^2+x+1
    expect(isIrreducible(0b101n)).toBe(false); // (x+1)^2
  });

  it("generates degree-53 irreducible polynomials that parse back", () => {
    for (let i = 0; i < 5; i++) {
      const pol = randomPolynomial();
      expect(pol >> 53n).toBe(1n);
      expect(pol & 1n).toBe(1n);
      expect(isIrreducible(pol)).toBe(true);
      expect(parsePolynomial(polynomialToHex(pol))).toBe(pol);
    }
  });

  it("refuses a reducible polynomial, a wrong degree and garbage", () => {
    expect(() => parsePolynomial(((1n << 53n) | 3n).toString(16))).toThrow(/not irreducible/);
    expect(() => parsePolynomial((1n << 60n).toString(16))).toThrow(/degree 60, more than 53/);
    expect(() => parsePolynomial("7")).toThrow(/degree 2/);
    expect(() => parsePolynomial("xyz")).toThrow(/not a hex number/);
    expect(() => parsePolynomial(42)).toThrow(/not a hex number/);
  });
});
