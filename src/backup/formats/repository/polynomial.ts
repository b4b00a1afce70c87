// The chunker polynomial of a repository: a random irreducible polynomial of degree 53 over GF(2), generated and
// checked exactly as restic/chunker does (polynomials.go: DerivePolynomial, Irreducible via Ben-Or). Runs once per
// repository, so BigInt is fine here; the chunker turns the polynomial into its tables.
import { randomBytes } from "node:crypto";

const MAX_DEGREE = 53;

function deg(x: bigint): number {
  return x === 0n ? -1 : x.toString(2).length - 1;
}

function mod(x: bigint, d: bigint): bigint {
  const dd = deg(d);
  for (let diff = deg(x) - dd; diff >= 0; diff = deg(x) - dd) x ^= d << BigInt(diff);
  return x;
}

function mulMod(a: bigint, b: bigint, g: bigint): bigint {
  let res = 0n;
  let x = mod(a, g);
  for (let y = b; y > 0n; y >>= 1n) {
    if (y & 1n) res ^= x;
    x = mod(x << 1n, g);
  }
  return res;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, mod(a, b)];
  return a;
}

/** (x^(2^p) + x) mod g: restic/chunker's qp(). */
function qp(p: number, g: bigint): bigint {
  let res = 2n; // the polynomial "x"
  for (let i = 0; i < p; i++) res = mulMod(res, res, g);
  return mod(res ^ 2n, g);
}

/** Ben-Or: g is irreducible iff gcd(g, x^(2^i) - x mod g) = 1 for every i up to deg(g)/2. */
export function isIrreducible(pol: bigint): boolean {
  if (pol <= 1n) return false;
  const d = deg(pol);
  for (let i = 1; i <= Math.floor(d / 2); i++) if (gcd(pol, qp(i, pol)) !== 1n) return false;
  return true;
}

/** A new polynomial as restic makes one: 8 random bytes (LE), 54 bits kept, bit 53 and bit 0 set, until irreducible. */
export function randomPolynomial(random: (n: number) => Uint8Array = randomBytes): bigint {
  for (let i = 0; i < 1_000_000; i++) {
    const b = Buffer.from(random(8));
    let f = b.readBigUInt64LE(0) & ((1n << 54n) - 1n);
    f |= (1n << 53n) | 1n;
    if (isIrreducible(f)) return f;
  }
  throw new Error("unable to find a random irreducible polynomial");
}

/** Lowercase hex without 0x, as Go's chunker.Pol marshals it. */
export function polynomialToHex(pol: bigint): string {
  return pol.toString(16);
}

/**
 * Parses and checks config's chunker_polynomial: restic refuses a reducible one, and its chunker cannot take a
 * degree above 53 (restic only ever generates 53, which the chunker's tables assume).
 */
export function parsePolynomial(text: unknown): bigint {
  if (typeof text !== "string" || !/^(0x)?[0-9a-fA-F]{1,16}$/.test(text)) throw new Error(`chunker_polynomial ${JSON.stringify(text)} is not a hex number`);
  const pol = BigInt(`0x${text.replace(/^0x/, "")}`);
  const d = deg(pol);
  if (d > MAX_DEGREE) throw new Error(`chunker_polynomial ${text} has degree ${d}, more than ${MAX_DEGREE}`);
  if (d !== MAX_DEGREE) throw new Error(`chunker_polynomial ${text} has degree ${d}; restic's chunker (and this one) expects 53`);
  if (!isIrreducible(pol)) throw new Error(`chunker_polynomial ${text} is not irreducible`);
  return pol;
}
