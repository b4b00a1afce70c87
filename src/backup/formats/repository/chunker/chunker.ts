// restic's content-defined chunker (github.com/restic/chunker with restic's defaults: chunks of 512 KiB..8 MiB, ~1 MiB
// past the minimum on average), fed a file in buffers of any size. Boundaries depend only on the bytes, never on how
// they were split into buffers, so the same file gives the same blob IDs as restic's own backup.
//
// Two front ends over one core (core.ts): `Chunker` takes the caller's buffers and returns cut offsets, copying only
// the bytes it hashes; `ChunkReader` reads a file into the core's own memory and hands out each chunk as a view
// without any copy. Both skip the first MinSize-64 bytes of every chunk unhashed (restic does too), so a file shorter
// than MinSize-64 bytes is one chunk that is never hashed at all.
import type { RabinCore } from "./core.js";
import { JsRabinCore } from "./js-core.js";
import { type ChunkerParams, RESTIC_PARAMS, WINDOW_SIZE, checkParams, rabinTables } from "./tables.js";
import { WasmRabinCore } from "./wasm-core.js";

export type ChunkerImplementation = "wasm" | "js";

export interface ChunkerOptions {
  /** "wasm" (default, fastest) or "js" (pure JavaScript, the reference). */
  implementation?: ChunkerImplementation;
  /** Chunk boundaries; only upstream's test vectors use anything but restic's defaults. */
  params?: ChunkerParams;
}

/** A core and `regionBytes` of memory it can search (the WASM core sees only its own memory). */
function createCore(polynomial: bigint | string, regionBytes: number, options: ChunkerOptions): { core: RabinCore; region: Uint8Array; params: ChunkerParams } {
  const tables = rabinTables(polynomial);
  const params = options.params ?? RESTIC_PARAMS;
  checkParams(params);
  if ((options.implementation ?? "wasm") === "wasm") {
    const core = new WasmRabinCore(tables, params.averageBits, regionBytes);
    return { core, region: core.region, params };
  }
  return { core: new JsRabinCore(tables, params.averageBits), region: new Uint8Array(regionBytes), params };
}

/** Hashed bytes are copied into the core's memory in pieces of at most this size (skipped bytes never are). */
const STAGE_BYTES = 1024 * 1024;

/**
 * Streaming chunker for one file at a time: `push` each read buffer in order, then `finish`. Keeps no reference to
 * the data; only the bytes the rolling hash reads are copied.
 */
export class Chunker {
  readonly implementation: ChunkerImplementation;
  private readonly core: RabinCore;
  /** [the chunk's 64 bytes before the piece][piece]: a window looks 64 bytes back. */
  private readonly stage: Uint8Array;
  private readonly params: ChunkerParams;
  private n = 0;

  constructor(polynomial: bigint | string, options: ChunkerOptions = {}) {
    const { core, region, params } = createCore(polynomial, WINDOW_SIZE + STAGE_BYTES, options);
    this.core = core;
    this.stage = region;
    this.params = params;
    this.implementation = core.kind;
  }

  /** Bytes of the chunk in progress. */
  get pending(): number {
    return this.n;
  }

  /**
   * Feeds the file's next bytes. Returns the offsets in `data` at which chunks end (exclusive, ascending); the bytes
   * after the last one belong to the next chunk.
   */
  push(data: Uint8Array): number[] {
    const cuts: number[] = [];
    const { minSize, maxSize } = this.params;
    const skipTo = minSize - WINDOW_SIZE;
    const stage = this.stage;
    let i = 0;
    while (i < data.length) {
      if (this.n < skipTo) {
        const step = Math.min(skipTo - this.n, data.length - i);
        this.n += step;
        i += step;
        continue;
      }
      // Stage index x holds chunk byte n + x - 64; candidate c means a chunk of n + c - 64 bytes.
      const piece = Math.min(data.length - i, STAGE_BYTES);
      stage.set(data.subarray(i, i + piece), WINDOW_SIZE);
      const lo = WINDOW_SIZE + Math.max(0, minSize - this.n);
      const reach = Math.min(piece, maxSize - this.n);
      let cut = lo <= WINDOW_SIZE + reach ? this.core.find(stage, lo, WINDOW_SIZE + reach) : -1;
      if (cut < 0 && this.n + reach === maxSize) cut = WINDOW_SIZE + reach;
      if (cut >= 0) {
        i += cut - WINDOW_SIZE;
        cuts.push(i);
        this.n = 0;
      } else {
        stage.copyWithin(0, piece, piece + WINDOW_SIZE);
        this.n += piece;
        i += piece;
      }
    }
    return cuts;
  }

  /** Ends the file: returns the length of its last chunk (0 when it ended on a boundary or was empty) and resets. */
  finish(): number {
    const last = this.n;
    this.n = 0;
    return last;
  }
}

/** Chunk lengths of a whole in-memory buffer (tests, small data). */
export function chunkLengths(data: Uint8Array, polynomial: bigint | string, options: ChunkerOptions = {}): number[] {
  const chunker = new Chunker(polynomial, options);
  const lengths: number[] = [];
  let prev = 0;
  for (const cut of chunker.push(data)) {
    lengths.push(cut - prev);
    prev = cut;
  }
  const last = chunker.finish();
  if (last > 0) lengths.push(last);
  return lengths;
}

/** Fills `into` from the file's current position; resolves to the bytes read, 0 at the end of the file. */
export type ReadInto = (into: Uint8Array) => Promise<number>;

export interface ChunkReaderOptions extends ChunkerOptions {
  /** Bytes asked for per read (default 1 MiB; restic reads 512 KiB). */
  readSize?: number;
}

/**
 * Reads files into the core's own memory and yields their chunks as views into it: no copy between the read and the
 * consumer (a partial chunk moves to the front when the buffer's end is reached). Memory: MaxSize + readSize. One
 * file at a time per reader; use one reader per concurrent file.
 */
export class ChunkReader {
  readonly implementation: ChunkerImplementation;
  private readonly core: RabinCore;
  private readonly buf: Uint8Array;
  private readonly params: ChunkerParams;
  private readonly readSize: number;
  private busy = false;

  constructor(polynomial: bigint | string, options: ChunkReaderOptions = {}) {
    const readSize = options.readSize ?? 1024 * 1024;
    if (!Number.isInteger(readSize) || readSize < 1) throw new RangeError(`invalid read size ${readSize}`);
    const maxSize = (options.params ?? RESTIC_PARAMS).maxSize;
    const { core, region, params } = createCore(polynomial, maxSize + readSize, options);
    this.core = core;
    this.buf = region;
    this.params = params;
    this.readSize = readSize;
    this.implementation = core.kind;
  }

  /**
   * The chunks of one file, in order. Each view is valid until the next one is requested: a consumer that keeps the
   * bytes past that (rather than hashing, compressing or encrypting them right away) must copy them.
   *
   * `limit`: read at most this many bytes (e.g. the size lstat reported, so the node's size and its chunks agree even
   * if the file grows meanwhile); reaching it ends the file without another read. Without it, reads go to EOF.
   */
  async *chunks(read: ReadInto, limit = Number.POSITIVE_INFINITY): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.busy) throw new Error("ChunkReader is already reading a file");
    this.busy = true;
    try {
      const { buf, core, readSize } = this;
      const { minSize, maxSize } = this.params;
      let start = 0; // the current chunk's first byte
      let filled = 0; // bytes read into buf
      let next = minSize; // first candidate not searched yet, relative to start
      let total = 0;
      let eof = limit <= 0;
      for (;;) {
        const hi = Math.min(filled, start + maxSize);
        if (start + next <= hi) {
          let cut = core.find(buf, start + next, hi);
          if (cut < 0 && hi === start + maxSize) cut = hi;
          if (cut >= 0) {
            yield buf.subarray(start, cut);
            start = cut;
            next = minSize;
            continue;
          }
          next = hi - start + 1;
        }
        if (eof) {
          if (filled > start) yield buf.subarray(start, filled);
          return;
        }
        if (buf.length - filled < readSize) {
          buf.copyWithin(0, start, filled);
          filled -= start;
          start = 0;
        }
        const n = await read(buf.subarray(filled, filled + Math.min(readSize, limit - total)));
        total += n;
        if (n === 0 || total >= limit) eof = true;
        filled += n;
      }
    } finally {
      this.busy = false;
    }
  }
}

/** A ReadInto over an open file (sequential reads from its current position). */
export function readFromFileHandle(fh: { read(buffer: Uint8Array, offset: number, length: number, position: null): Promise<{ bytesRead: number }> }): ReadInto {
  return async (into) => (await fh.read(into, 0, into.length, null)).bytesRead;
}
