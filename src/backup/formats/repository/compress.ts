// zstd as restic v2 uses it (klauspost/compress EncodeAll: level "default" ≈ zstd 3, no checksum, 512 KiB window,
// one frame with the content size). Any conforming frame decodes; decoding is capped at the size the caller expects.
import zlib from "node:zlib";

const C = zlib.constants;

export function zstdCompress(data: Uint8Array, level = 3): Buffer {
  return zlib.zstdCompressSync(data, {
    pledgedSrcSize: data.length,
    params: { [C.ZSTD_c_compressionLevel]: level, [C.ZSTD_c_checksumFlag]: 0, [C.ZSTD_c_windowLog]: 19 },
  });
}

/**
 * Decompresses one or more frames; throws when the output would exceed `maxBytes`. `exact`: the output is known to be
 * `maxBytes` long (a blob's uncompressed length), so it is produced in one buffer of that size instead of 16 KiB
 * pieces concatenated at the end (a third less CPU, and no garbage for the allocator to keep).
 */
export function zstdDecompress(data: Uint8Array, maxBytes: number, exact = false): Buffer {
  return zlib.zstdDecompressSync(data, { maxOutputLength: Math.max(1, maxBytes), ...(exact ? { chunkSize: Math.max(64, maxBytes) } : {}) });
}
