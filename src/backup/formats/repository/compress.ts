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

/** Decompresses one or more frames; throws when the output would exceed `maxBytes`. */
export function zstdDecompress(data: Uint8Array, maxBytes: number): Buffer {
  return zlib.zstdDecompressSync(data, { maxOutputLength: Math.max(1, maxBytes) });
}
