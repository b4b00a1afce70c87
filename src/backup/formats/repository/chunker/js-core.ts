// Pure-JS fingerprint search: the 53-bit digest as two uint32 halves (BigInt would be 10-50x slower). The reference
// for the WASM core and its fallback.
import type { RabinCore } from "./core.js";
import { type RabinTables, WINDOW_SIZE } from "./tables.js";

export class JsRabinCore implements RabinCore {
  readonly kind = "js" as const;
  private readonly mask: number;

  constructor(
    private readonly tables: RabinTables,
    averageBits: number,
  ) {
    this.mask = 2 ** averageBits - 1;
  }

  find(buf: Uint8Array, lo: number, hi: number): number {
    if (lo < WINDOW_SIZE || hi > buf.length) throw new RangeError(`find(${lo}, ${hi}) outside the buffer`);
    const { mask } = this;
    const { modHi, modLo, outHi, outLo, polShift } = this.tables;
    // Top byte of the digest: within `hi` for degree >= 40 (restic's are 53), straddling the halves below.
    const top = polShift >= 32 ? (h: number) => h >>> (polShift - 32) : (h: number, l: number) => ((h << (32 - polShift)) | (l >>> polShift)) & 0xff;
    let h = 0;
    let l = 0;
    for (let i = lo - WINDOW_SIZE; i < lo; i++) {
      const idx = top(h, l);
      h = (h << 8) | (l >>> 24);
      l = (l << 8) | buf[i]!;
      h ^= modHi[idx]!;
      l ^= modLo[idx]!;
    }
    if ((l & mask) === 0) return lo;
    if (polShift >= 32) {
      const s = polShift - 32;
      for (let c = lo + 1; c <= hi; c++) {
        const out = buf[c - WINDOW_SIZE - 1]!;
        h ^= outHi[out]!;
        l ^= outLo[out]!;
        const idx = h >>> s;
        h = (h << 8) | (l >>> 24);
        l = (l << 8) | buf[c - 1]!;
        h ^= modHi[idx]!;
        l ^= modLo[idx]!;
        if ((l & mask) === 0) return c;
      }
    } else {
      for (let c = lo + 1; c <= hi; c++) {
        const out = buf[c - WINDOW_SIZE - 1]!;
        h ^= outHi[out]!;
        l ^= outLo[out]!;
        const idx = top(h, l);
        h = (h << 8) | (l >>> 24);
        l = (l << 8) | buf[c - 1]!;
        h ^= modHi[idx]!;
        l ^= modLo[idx]!;
        if ((l & mask) === 0) return c;
      }
    }
    return -1;
  }
}
