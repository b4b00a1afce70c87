// Reads a tar stream as snapshot entries, one at a time: the visitor handles an entry (and reads its content, or
// not) before the next header is parsed; content left unread is skipped. Used for the archive format's snapshots and
// the older plugin's (both are tar inside). The parser is the restore writer's own pull parser
// (src/backup/restore/tar-source.ts: ustar, GNU and pax, strict about checksums and cut streams), which hands file
// contents out as views of the decoded chunks and reads the stream to its end, so the stored object's SHA-256 sees
// every byte.
import type { Readable } from "node:stream";
import { type RestoreEntry, tarSource } from "../../restore/index.js";
import type { SnapshotEntry } from "../format.js";

const NO_CONTENT: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

function toEntry(e: RestoreEntry): SnapshotEntry {
  // A hard link is refused by restore (and not counted), like devices and fifos: "other" with its name.
  const type = e.type === "hardlink" ? "other" : e.type;
  return {
    path: e.path,
    type,
    ...(type === "other" ? { kind: e.type === "hardlink" ? "hard link" : (e.kind ?? "special file") } : {}),
    size: type === "file" ? e.size : 0,
    mode: e.mode,
    // To the nearest millisecond, but never into the next second (0.9996 s is 0.999): the comparison with the live
    // files looks at whole seconds (like rsync's quick check) and would call the file changed.
    ...(e.mtime ? { mtime: new Date(e.mtime.sec * 1000 + Math.min(999, Math.round(e.mtime.nsec / 1e6))) } : {}),
    ...(type === "symlink" && e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
    content: () => e.content ?? NO_CONTENT,
  };
}

/** Visits every entry of the tar stream in order; rejects with the first failure (stream, parser or visitor). */
export async function readTarEntries(stream: Readable, visit: (entry: SnapshotEntry) => Promise<void>): Promise<void> {
  for await (const e of tarSource(stream as AsyncIterable<Buffer>).entries) await visit(toEntry(e));
}
