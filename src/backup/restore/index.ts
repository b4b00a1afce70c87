// The restore writer shared by every storage format: a format hands it a stream of entries (entry.ts), it writes
// them into the staging folder restore-target.ts prepared. tar-source.ts turns a tar stream into such entries.
export { parseDecimalTime, toSeconds, type EntryType, type Refusal, type RestoreEntry, type RestoreSource, type Time } from "./entry.js";
export { isRootItself, safeRelative } from "./safe-path.js";
export { TarFormatError, tarSource } from "./tar-source.js";
export { writeEntries, type WriteOptions, type WriteStats } from "./writer.js";
