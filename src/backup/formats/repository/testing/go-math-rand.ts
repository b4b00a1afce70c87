// Test-only: Go's math/rand stream (the pre-1.20 default Source: an additive lagged Fibonacci generator,
// x[k] = x[k-273] + x[k-607] mod 2^64), to reproduce upstream restic/chunker's random test vector (seed 23).
//
// Go seeds every Source by XOR-ing a table `rngCooked` into the seeded register. That table is the generator's own
// register after srand(1) and 7.8e12 steps (Go's gen_cooked.go). Rather than copying Go's table, it is recomputed
// here: the recurrence is linear, so 7.8e12 steps are a jump by z^N mod (z^607 - z^334 - 1) over Z/2^64, computed by
// repeated squaring of polynomials (about a second), then applied to the initial register.

const LEN = 607;
const TAP = 273;
const M32 = 2147483647; // 2^31 - 1
const MASK64 = (1n << 64n) - 1n;

/** The Park-Miller step Go uses to expand a seed: x * 48271 mod (2^31 - 1), via Schrage's method as Go does. */
function seedrand(x: number): number {
  const hi = Math.trunc(x / 44488);
  const lo = x % 44488;
  let r = 48271 * lo - 3399 * hi;
  if (r < 0) r += M32;
  return r;
}

/** The register a seed expands to: shifts (a, b) are (20, 10) in gen_cooked.go's srand and (40, 20) in Seed. */
function expand(seed: number, a: bigint, b: bigint): bigint[] {
  let s = seed % M32;
  if (s < 0) s += M32;
  if (s === 0) s = 89482311;
  let x = s;
  const out: bigint[] = [];
  for (let i = -20; i < LEN; i++) {
    x = seedrand(x);
    if (i >= 0) {
      let u = BigInt(x) << a;
      x = seedrand(x);
      u ^= BigInt(x) << b;
      x = seedrand(x);
      u ^= BigInt(x);
      out.push(u);
    }
  }
  return out;
}

/** a * b mod (z^607 - z^334 - 1), coefficients mod 2^64. */
function mulMod(a: bigint[], b: bigint[]): bigint[] {
  const prod: bigint[] = new Array(2 * LEN - 1).fill(0n);
  for (let i = 0; i < LEN; i++) {
    const ai = a[i]!;
    if (ai === 0n) continue;
    for (let j = 0; j < LEN; j++) prod[i + j] = prod[i + j]! + ai * b[j]!;
  }
  for (let d = 2 * LEN - 2; d >= LEN; d--) {
    const c = BigInt.asUintN(64, prod[d]!);
    if (c === 0n) continue;
    // z^d = z^(d-607) * (z^334 + 1)
    prod[d - LEN + (LEN - TAP)] = prod[d - LEN + (LEN - TAP)]! + c;
    prod[d - LEN] = prod[d - LEN]! + c;
  }
  return prod.slice(0, LEN).map((c) => BigInt.asUintN(64, c));
}

/** z^n mod the characteristic polynomial. */
function powZ(n: bigint): bigint[] {
  let result: bigint[] = new Array(LEN).fill(0n);
  result[0] = 1n;
  const bits = n.toString(2);
  for (const bit of bits) {
    result = mulMod(result, result);
    if (bit === "1") {
      // multiply by z: shift up, reduce the coefficient that reaches z^607
      const top = result[LEN - 1]!;
      result = [0n, ...result.slice(0, LEN - 1)];
      result[LEN - TAP] = (result[LEN - TAP]! + top) & MASK64;
      result[0] = (result[0]! + top) & MASK64;
    }
  }
  return result;
}

let cooked: bigint[] | undefined;

/** Go's rngCooked: the register after srand(1) and 7.8e12 steps of gen_cooked.go. */
export function rngCooked(): bigint[] {
  if (cooked) return cooked;
  // The value written at step k (k >= 1) is x[k] = x[k-607] + x[k-273]; for k <= 0, x[k] is the initial register at
  // position (334 - k) mod 607 (feed starts at 607-273 = 334, tap at 0, both step down by one).
  const init = expand(1, 20n, 10n);
  const y: bigint[] = []; // y[i] = x[i - 606], i = 0..606
  for (let i = 0; i < LEN; i++) y.push(init[(((LEN - TAP - (i - 606)) % LEN) + LEN) % LEN]!);
  const N = 7_800_000_000_000n;
  // x[N - 606 + t] = y[N + t]: coefficients of z^(N+t) mod C applied to y.
  let poly = powZ(N);
  const out: bigint[] = new Array(LEN);
  for (let t = 0; t < LEN; t++) {
    let v = 0n;
    for (let j = 0; j < LEN; j++) if (poly[j] !== 0n) v += poly[j]! * y[j]!;
    const k = N - 606n + BigInt(t); // the step that wrote it
    const pos = Number((((BigInt(LEN - TAP) - k) % BigInt(LEN)) + BigInt(LEN)) % BigInt(LEN));
    out[pos] = BigInt.asUintN(64, v);
    const top = poly[LEN - 1]!;
    poly = [0n, ...poly.slice(0, LEN - 1)];
    poly[LEN - TAP] = (poly[LEN - TAP]! + top) & MASK64;
    poly[0] = (poly[0]! + top) & MASK64;
  }
  cooked = out;
  return out;
}

/** getRandom(seed, count) of restic/chunker's chunker_test.go: rand.New(rand.NewSource(seed)).Uint32() bytes, LE. */
export function goRandomBytes(seed: number, count: number): Buffer {
  const c = rngCooked();
  const init = expand(seed, 40n, 20n);
  const hi = new Uint32Array(LEN);
  const lo = new Uint32Array(LEN);
  for (let i = 0; i < LEN; i++) {
    const v = BigInt.asUintN(64, init[i]! ^ c[i]!);
    hi[i] = Number(v >> 32n);
    lo[i] = Number(v & 0xffffffffn);
  }
  let tap = 0;
  let feed = LEN - TAP;
  const out = Buffer.alloc(count);
  for (let i = 0; i < count; i += 4) {
    if (--tap < 0) tap += LEN;
    if (--feed < 0) feed += LEN;
    const l = lo[feed]! + lo[tap]!;
    const carry = l > 0xffffffff ? 1 : 0;
    lo[feed] = l >>> 0;
    hi[feed] = (hi[feed]! + hi[tap]! + carry) >>> 0;
    // Uint32() = uint32(Int63() >> 31): bits 31..62 of the 64-bit sum.
    const r = (((hi[feed]! & 0x7fffffff) << 1) | (lo[feed]! >>> 31)) >>> 0;
    out.writeUInt32LE(r, i);
  }
  return out;
}
