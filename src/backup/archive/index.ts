// The archive layer of backups: tree walk, streaming tar writer, safe streaming extractor.
export { dedupItems, fingerprintTree, scanTotals, walkItems, type ArchiveItem, type WalkEntry } from "./tree-walk.js";
export { createTarPackStream, TAR_BATCH, type PackOptions, type PackProgress } from "./tar-pack.js";
export { extractTar, listTar, safeRelative, type ExtractOptions, type ExtractResult } from "./tar-extract.js";
