// Rabin fingerprint tables for restic's chunker (github.com/restic/chunker `fillTables`), computed once per
// polynomial with BigInt GF(2) arithmetic and cached. The hot loops only read them.

/** restic's chunk size limits and split mask (`MinSize`, `MaxSize`, `(1<<20)-1`: ~1 MiB average past MinSize). */
export const MIN_SIZE = 512 * 1024;
export const MAX_SIZE = 8 * 1024 * 1024;
export const SPLIT_MASK = (1 << 20) - 1;
export const WINDOW_SIZE = 64;

/** Boundaries a chunker cuts with; restic always uses the defaults (the options exist for the upstream test vectors). */
export interface ChunkerParams {
  minSize: number;
  maxSize: number;
  /** Low bits of the fingerprint that must be zero for a cut (restic: 20 → mask 0xfffff). */
  averageBits: number;
}

export const RESTIC_PARAMS: Readonly<ChunkerParams> = { minSize: MIN_SIZE, maxSize: MAX_SIZE, averageBits: 20 };

export function checkParams(p: ChunkerParams): void {
  if (!Number.isInteger(p.minSize) || !Number.isInteger(p.maxSize) || p.minSize < WINDOW_SIZE || p.maxSize < p.minSize || p.maxSize > 0x7fff_ffff) {
    throw new RangeError(`invalid chunk boundaries ${p.minSize}..${p.maxSize}`);
  }
  if (!Number.isInteger(p.averageBits) || p.averageBits < 1 || p.averageBits > 31) throw new RangeError(`invalid average bits ${p.averageBits}`);
}

export interface RabinTables {
  readonly pol: bigint;
  readonly degree: number;
  /** deg(pol) - 8: the digest's top byte is `digest >> polShift`. */
  readonly polShift: number;
  /** out[b] = contribution of byte b about to leave the 64-byte window; mod[b] = reduction for top byte b. */
  readonly out: BigUint64Array;
  readonly mod: BigUint64Array;
  /** The same tables split into 32-bit halves for the JS loop. */
  readonly outHi: Uint32Array;
  readonly outLo: Uint32Array;
  readonly modHi: Uint32Array;
  readonly modLo: Uint32Array;
}

/**
 * The repository's `chunker_polynomial` as restic writes it in `config` (lowercase hex, no `0x`), or a bigint.
 * Degree 8..53 as restic's chunker requires (restic only ever generates degree 53); irreducibility is the
 * repository layer's check, not needed here.
 */
export function parsePolynomial(pol: bigint | string): bigint {
  let value: bigint;
  if (typeof pol === "bigint") value = pol;
  else {
    const hex = pol.trim().replace(/^0x/i, "");
    if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new RangeError(`chunker polynomial ${JSON.stringify(pol)} is not a hex number`);
    value = BigInt(`0x${hex}`);
  }
  const degree = degreeOf(value);
  if (degree < 8 || degree > 53) throw new RangeError(`chunker polynomial 0x${value.toString(16)} has degree ${degree}; restic's chunker needs 8..53`);
  return value;
}

export function degreeOf(x: bigint): number {
  return x <= 0n ? -1 : x.toString(2).length - 1;
}

/** x mod p over GF(2). */
function polMod(x: bigint, p: bigint, pDeg: number): bigint {
  let d = degreeOf(x);
  while (d >= pDeg) {
    x ^= p << BigInt(d - pDeg);
    d = degreeOf(x);
  }
  return x;
}

const cache = new Map<bigint, RabinTables>();

export function rabinTables(polynomial: bigint | string): RabinTables {
  const pol = parsePolynomial(polynomial);
  const hit = cache.get(pol);
  if (hit) return hit;
  const degree = degreeOf(pol);
  const out = new BigUint64Array(256);
  const mod = new BigUint64Array(256);
  const appendByte = (h: bigint, b: number): bigint => polMod((h << 8n) | BigInt(b), pol, degree);
  for (let b = 0; b < 256; b++) {
    let h = appendByte(0n, b);
    for (let i = 0; i < WINDOW_SIZE - 1; i++) h = appendByte(h, 0);
    out[b] = h;
    const shifted = BigInt(b) << BigInt(degree);
    mod[b] = polMod(shifted, pol, degree) | shifted;
  }
  const split = (t: BigUint64Array) => ({
    hi: Uint32Array.from(t, (v) => Number(v >> 32n)),
    lo: Uint32Array.from(t, (v) => Number(v & 0xffff_ffffn)),
  });
  const o = split(out);
  const m = split(mod);
  const tables: RabinTables = { pol, degree, polShift: degree - 8, out, mod, outHi: o.hi, outLo: o.lo, modHi: m.hi, modLo: m.lo };
  cache.set(pol, tables);
  return tables;
}
