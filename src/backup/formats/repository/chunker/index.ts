// restic-compatible content-defined chunking: see chunker.ts.
export { ChunkReader, Chunker, type ChunkReaderOptions, type ChunkerImplementation, type ChunkerOptions, type ReadInto, chunkLengths, readFromFileHandle } from "./chunker.js";
export { MAX_SIZE, MIN_SIZE, RESTIC_PARAMS, type ChunkerParams, parsePolynomial } from "./tables.js";
