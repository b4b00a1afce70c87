// WebAssembly fingerprint search (rabin.wat): the digest is a native i64 and four stretches of the buffer are hashed
// at once, so the search runs at several times the JS core's speed. Each core owns a fixed-size linear memory (never
// grown, so views into it stay valid); callers put data straight into `region`, which the core can see.
import type { RabinCore } from "./core.js";
import { RABIN_WASM_BASE64 } from "./rabin-wasm.js";
import { type RabinTables, WINDOW_SIZE } from "./tables.js";

const TABLES_BYTES = 4096;
const PAGE = 65536;

interface RabinExports {
  configure(mask: bigint, shift: bigint): void;
  find(lo: number, hi: number): number;
}

let compiled: WebAssembly.Module | undefined;
function wasmModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(RABIN_WASM_BASE64, "base64"));
  return compiled;
}

export class WasmRabinCore implements RabinCore {
  readonly kind = "wasm" as const;
  /** The part of the core's memory that `find` accepts. */
  readonly region: Uint8Array;
  private readonly memory: WebAssembly.Memory;
  private readonly exports: RabinExports;

  constructor(tables: RabinTables, averageBits: number, regionBytes: number) {
    const pages = Math.ceil((TABLES_BYTES + regionBytes) / PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(wasmModule(), { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as RabinExports;
    const u64 = new BigUint64Array(this.memory.buffer, 0, 512);
    u64.set(tables.out, 0);
    u64.set(tables.mod, 256);
    this.exports.configure(BigInt(2 ** averageBits - 1), BigInt(tables.polShift));
    this.region = new Uint8Array(this.memory.buffer, TABLES_BYTES, regionBytes);
  }

  /** `buf` must be a view into `region`. */
  find(buf: Uint8Array, lo: number, hi: number): number {
    if (buf.buffer !== this.memory.buffer) throw new Error("WasmRabinCore.find: the data must be in the core's region");
    if (lo < WINDOW_SIZE || hi > buf.length) throw new RangeError(`find(${lo}, ${hi}) outside the buffer`);
    if (lo > hi) return -1;
    const base = buf.byteOffset;
    const r = this.exports.find(base + lo, base + hi);
    return r < 0 ? -1 : r - base;
  }
}
