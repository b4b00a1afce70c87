// zstd as restic v2 uses it (klauspost/compress EncodeAll: level "default" ≈ zstd 3, no checksum, 512 KiB window,
// one frame; restic writes the content size, our blob frames leave it out, our documents keep it). Any conforming
// frame decodes, and several frames in a row decode whole (as restic's DecodeAll reads them, skippable frames left
// out); decoding is capped at the size the caller expects.
import zlib from "node:zlib";
import { releaseBuffer } from "../../../util/release-buffer.js";

const C = zlib.constants;

/**
 * One frame in one buffer of its own (room for zstd's worst case, never a slice of Node's pool): no 16 KiB pieces
 * concatenated, and its taker can free it as soon as it is sealed.
 */
export function zstdCompress(data: Uint8Array, level = 3): Buffer {
  return zlib.zstdCompressSync(data, {
    chunkSize: Math.max(compressBound(data.length) + 1, Buffer.poolSize >>> 1),
    pledgedSrcSize: data.length,
    params: { [C.ZSTD_c_compressionLevel]: level, [C.ZSTD_c_checksumFlag]: 0, [C.ZSTD_c_windowLog]: 19 },
  });
}

/** The parts of Node's zstd stream a synchronous one-frame call needs (internal: checked before use, else one-shot). */
interface ZstdInternals {
  _handle: { writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void } | null;
  /** [output bytes left, input bytes left] after writeSync. */
  _writeState: Uint32Array;
  /** Drops an unfinished frame: the next one starts clean. */
  reset(): void;
}

/** A zstd stream used synchronously through its handle: what a failed call left (Node reports it as an error event). */
interface ZstdContext<S extends zlib.ZstdCompress | zlib.ZstdDecompress> {
  stream: S;
  internals: ZstdInternals;
  failure?: Error;
}

type CompressContext = ZstdContext<zlib.ZstdCompress>;
type DecompressContext = ZstdContext<zlib.ZstdDecompress>;

/** `stream` as a context, when Node's internals are what this module expects; else null (and the stream destroyed). */
function asContext<S extends zlib.ZstdCompress | zlib.ZstdDecompress>(stream: S): ZstdContext<S> | null {
  const internals = stream as unknown as ZstdInternals;
  if (typeof internals._handle?.writeSync !== "function" || !(internals._writeState instanceof Uint32Array) || typeof internals.reset !== "function") {
    stream.destroy();
    return null;
  }
  const made: ZstdContext<S> = { stream, internals };
  stream.on("error", (err: Error) => (made.failure = err));
  return made;
}

/** One long-lived context per level and thread (a worker has its own module instance). */
const contexts = new Map<number, CompressContext | null>();

function compressContext(level: number): CompressContext | undefined {
  let ctx = contexts.get(level);
  if (ctx === undefined) {
    ctx = asContext(zlib.createZstdCompress({ params: { [C.ZSTD_c_compressionLevel]: level, [C.ZSTD_c_checksumFlag]: 0, [C.ZSTD_c_windowLog]: 19 } }));
    contexts.set(level, ctx);
  }
  return ctx ?? undefined;
}

/** Frees this thread's long-lived contexts (a gateway that ran a backup keeps no zstd tables until the next one). */
export function releaseCompressContexts(): void {
  for (const ctx of contexts.values()) ctx?.stream.destroy();
  contexts.clear();
}

/**
 * Compresses `data` as one frame into `out` and returns the frame's length, or undefined when the frame would not be
 * shorter than `out` (the caller then stores `data` as it is). A long-lived context per level instead of a one-shot
 * call per blob: no new context with its tables and window per blob (each a fresh allocation the kernel faults in page
 * by page), ~12% less time on text. Its frames carry no content size (the index records it). Where Node's internals
 * differ from what is checked here, a one-shot call does the same.
 */
export function zstdCompressInto(data: Uint8Array, out: Uint8Array, level = 3): number | undefined {
  const ctx = compressContext(level);
  if (!ctx || ctx.failure || !ctx.internals._handle) {
    if (ctx) contexts.delete(level); // a context that failed is made anew next time
    const packed = zstdCompress(data, level);
    const fits = packed.length < out.length;
    if (fits) out.set(packed);
    releaseBuffer(packed);
    return fits ? packed.length : undefined;
  }
  ctx.internals._handle.writeSync(C.ZSTD_e_end, data, 0, data.length, out, 0, out.length);
  const [outLeft, inLeft] = ctx.internals._writeState;
  // Node reports a failed call by closing the stream (its error event comes later): nothing it wrote is used.
  if (ctx.failure || !ctx.internals._handle) {
    contexts.delete(level);
    throw ctx.failure ?? new Error("zstd compression failed");
  }
  if (outLeft === 0 || inLeft! > 0) {
    // Not shorter: the frame is left unfinished, and the context starts the next one clean.
    ctx.internals.reset();
    return undefined;
  }
  return out.length - outLeft!;
}

/** ZSTD_COMPRESSBOUND: the largest frame zstd makes of `n` bytes. */
function compressBound(n: number): number {
  return n + (n >>> 8) + (n < 128 << 10 ? ((128 << 10) - n) >>> 11 : 0);
}

/**
 * Decompresses one or more frames; throws when the output would exceed `maxBytes`. `exact`: the output is known to be
 * `maxBytes` long (a blob's uncompressed length), so it is produced in one buffer instead of 16 KiB pieces
 * concatenated at the end (a third less CPU, and no garbage for the allocator to keep). That buffer has memory of its
 * own, so its taker may free it at once (release-buffer.ts): one byte larger than the output (zlib allocates a second,
 * unused buffer whenever the first ends full) and never under half of Buffer.poolSize (smaller ones would be slices
 * of Node's shared pool).
 */
export function zstdDecompress(data: Uint8Array, maxBytes: number, exact = false): Buffer {
  if (exact) {
    const out = decompressWithContext(data, maxBytes);
    if (out) return out;
  }
  const chunkSize = Math.max(maxBytes + 1, Buffer.poolSize >>> 1);
  const out = zlib.zstdDecompressSync(data, { maxOutputLength: Math.max(1, maxBytes), ...(exact ? { chunkSize } : {}) });
  // Short of the size expected: the input may hold more than one frame (Node decodes the first only).
  return exact && out.length < maxBytes ? (decodeFrames(data, maxBytes) ?? out) : out;
}

/** One long-lived decompression context per thread (undefined: not made yet; null: Node's internals differ). */
let decompressor: DecompressContext | null | undefined;

function decompressContext(): DecompressContext | undefined {
  if (decompressor === undefined) decompressor = asContext(zlib.createZstdDecompress());
  return decompressor ?? undefined;
}

/** Frees this thread's long-lived decompression context (a restore is over). */
export function releaseDecompressContext(): void {
  decompressor?.stream.destroy();
  decompressor = undefined;
}

/**
 * A blob of known length decoded by the thread's long-lived context straight into one buffer of exactly that length
 * (plus one byte, which tells "longer than expected" apart): no zlib stream, context and window made and dropped per
 * blob. Undefined when the answer is not simply "one frame of that length" (several frames, a damaged frame, Node's
 * internals differ): the one-shot path then decides and names the error.
 */
function decompressWithContext(data: Uint8Array, length: number): Buffer | undefined {
  const ctx = decompressContext();
  if (!ctx || ctx.failure || !ctx.internals._handle) {
    if (ctx) releaseDecompressContext(); // a context that failed is made anew next time
    return undefined;
  }
  const out = Buffer.allocUnsafeSlow(length + 1); // memory of its own: its taker may free it (release-buffer.ts)
  ctx.internals._handle.writeSync(C.ZSTD_e_end, data, 0, data.length, out, 0, out.length);
  const [outLeft, inLeft] = ctx.internals._writeState;
  if (ctx.failure || !ctx.internals._handle) {
    releaseDecompressContext();
    releaseBuffer(out);
    return undefined;
  }
  if (outLeft === 1 && inLeft === 0) {
    // One whole frame read to its end leaves the context ready for the next; anything else (a frame cut short whose
    // bytes still came out right) is reset, so that it cannot run on into the next blob.
    if (zstdFrameLength(data, 0) !== data.length) ctx.internals.reset();
    return out.subarray(0, length);
  }
  ctx.internals.reset();
  releaseBuffer(out);
  return undefined;
}

/**
 * Decompresses a document of unknown length (at most `maxBytes`). The size its frame header declares only sizes the
 * first output buffer (one buffer instead of 16 KiB pieces joined, for a MiBs-long index file): a missing or wrong
 * size, or frames that follow, still decode whole.
 */
export function zstdDecompressDocument(data: Uint8Array, maxBytes: number): Buffer {
  if (zstdFrameLength(data, 0) !== data.length) {
    const all = decodeFrames(data, maxBytes);
    if (all) return all;
  }
  const declared = zstdFrameContentSize(data);
  const hint = declared !== undefined && declared < Math.min(maxBytes, MAX_SIZE_HINT) ? { chunkSize: Math.max(declared + 1, Buffer.poolSize >>> 1) } : {};
  return zlib.zstdDecompressSync(data, { maxOutputLength: Math.max(1, maxBytes), ...hint });
}

/**
 * Every frame of `data` decoded and joined, as restic's decoder (klauspost DecodeAll) reads a blob or a document:
 * Node's zstd stops after the first frame, and returns nothing for a leading skippable frame. Undefined when `data` is
 * not a sequence of whole frames (then the single-frame decoding reports what is wrong, as before).
 */
function decodeFrames(data: Uint8Array, maxBytes: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let total = 0;
  for (let at = 0; at < data.length; ) {
    const length = zstdFrameLength(data, at);
    if (length === undefined) return undefined;
    if (!isSkippable(data, at)) {
      const part = zlib.zstdDecompressSync(data.subarray(at, at + length), { maxOutputLength: Math.max(1, maxBytes - total) });
      parts.push(part);
      total += part.length;
    }
    at += length;
  }
  // One buffer with memory of its own (never a slice of Node's pool): its taker may free it (release-buffer.ts).
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const part of parts) at += part.copy(out, at);
  return out;
}

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames have 16 magic numbers, 0x184D2A50–5F. */
const skippableMagic = (magic: number) => (magic & 0xfffffff0) === 0x184d2a50;
const isSkippable = (data: Uint8Array, at: number) => skippableMagic(Buffer.from(data.buffer, data.byteOffset + at, 4).readUInt32LE(0));

/**
 * The stored length of the frame starting at `at` (zstd's ZSTD_findFrameCompressedSize: header, blocks, checksum; a
 * skippable frame: 8 bytes + its declared size), or undefined when no whole frame starts there.
 */
export function zstdFrameLength(data: Uint8Array, at: number): number | undefined {
  if (data.length < at + 8) return undefined;
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  const magic = view.readUInt32LE(at);
  if (skippableMagic(magic)) {
    const end = at + 8 + view.readUInt32LE(at + 4);
    return end <= data.length ? end - at : undefined;
  }
  if (magic !== ZSTD_MAGIC) return undefined;
  const descriptor = view[at + 4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const flag = descriptor >> 6;
  let pos = at + 5 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 3]! + (flag === 0 ? singleSegment : FCS_BYTES[flag]!);
  for (;;) {
    if (pos + 3 > data.length) return undefined;
    const header = view[pos]! | (view[pos + 1]! << 8) | (view[pos + 2]! << 16);
    const type = (header >> 1) & 3;
    if (type === 3) return undefined; // reserved
    pos += 3 + (type === 1 ? 1 : header >>> 3);
    if (header & 1) break; // the last block
  }
  if (descriptor & 4) pos += 4; // content checksum
  return pos <= data.length ? pos - at : undefined;
}

/** A header's size is believed for the first buffer up to this (restic keeps index files below ~8 MiB). */
const MAX_SIZE_HINT = 64 << 20;

const FCS_BYTES = [0, 2, 4, 8];
const DICT_ID_BYTES = [0, 1, 2, 4];

/**
 * The content size a zstd frame's header declares (restic's and this encoder's frames carry it), or undefined: not a
 * zstd frame, or no size in its header. A header can lie: decode with the size as a cap, not as a promise.
 */
export function zstdFrameContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 6 || frame[0] !== 0x28 || frame[1] !== 0xb5 || frame[2] !== 0x2f || frame[3] !== 0xfd) return undefined;
  const descriptor = frame[4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const flag = descriptor >> 6;
  const size = flag === 0 ? singleSegment : FCS_BYTES[flag]!;
  const at = 5 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 3]!;
  if (size === 0 || at + size > frame.length) return undefined;
  const b = Buffer.from(frame.buffer, frame.byteOffset + at, size);
  if (size === 1) return b[0];
  if (size === 2) return b.readUInt16LE(0) + 256;
  if (size === 4) return b.readUInt32LE(0);
  const n = b.readBigUInt64LE(0);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}
