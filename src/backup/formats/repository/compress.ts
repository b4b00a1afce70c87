// zstd as restic v2 uses it (klauspost/compress EncodeAll: level "default" ≈ zstd 3, no checksum, 512 KiB window,
// one frame with the content size). Any conforming frame decodes; decoding is capped at the size the caller expects.
import zlib from "node:zlib";

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
  const chunkSize = Math.max(maxBytes + 1, Buffer.poolSize >>> 1);
  return zlib.zstdDecompressSync(data, { maxOutputLength: Math.max(1, maxBytes), ...(exact ? { chunkSize } : {}) });
}
