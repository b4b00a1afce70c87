// Reads a tar stream as snapshot entries, one at a time: the parser is held while the visitor handles an entry (and
// reads its content), and whatever content the visitor left unread is skipped before the next entry. Used for the
// archive format's snapshots and the older plugin's (both are tar inside).
import type { Readable } from "node:stream";
import { Parser, type ReadEntry } from "tar";
import type { SnapshotEntry } from "../format.js";

const KINDS: Record<string, SnapshotEntry["type"]> = {
  File: "file",
  OldFile: "file",
  ContiguousFile: "file",
  Directory: "dir",
  SymbolicLink: "symlink",
};

function drain(entry: ReadEntry): Promise<void> {
  if (entry.emittedEnd) return Promise.resolve();
  return new Promise((resolve, reject) => {
    entry.on("end", resolve);
    entry.on("error", reject);
    entry.resume();
  });
}

function toEntry(e: ReadEntry): SnapshotEntry {
  const type = KINDS[e.type] ?? "other";
  return {
    path: e.path,
    type,
    ...(type === "other" ? { kind: e.type } : {}),
    size: type === "file" ? (e.size ?? 0) : 0,
    ...(e.mode !== undefined ? { mode: e.mode } : {}),
    ...(e.mtime ? { mtime: e.mtime } : {}),
    ...(e.linkpath !== undefined && type === "symlink" ? { linkTarget: e.linkpath } : {}),
    content: () => e as unknown as AsyncIterable<Uint8Array>,
  };
}

/** Visits every entry of the tar stream in order; rejects with the first failure (stream, parser or visitor). */
export async function readTarEntries(stream: Readable, visit: (entry: SnapshotEntry) => Promise<void>): Promise<void> {
  const parser = new Parser({ strict: true });
  let queue: Promise<void> = Promise.resolve();
  let failure: Error | undefined;

  parser.on("entry", (entry: ReadEntry) => {
    // Entries are handled strictly in order; the source is paused while one is handled.
    stream.pause();
    queue = queue
      .then(async () => {
        if (failure) return drain(entry);
        await visit(toEntry(entry));
        await drain(entry);
      })
      .catch((err: Error) => {
        failure ??= err;
        // A visitor that failed (disk full, permissions) ends the read: stop reading instead of downloading the rest
        // of the snapshot for nothing.
        stream.destroy(failure);
        return drain(entry).catch(() => {});
      })
      .finally(() => stream.resume());
  });

  await new Promise<void>((resolve, reject) => {
    parser.on("error", (err: Error) => {
      failure ??= err;
    });
    parser.on("warn", (_code: string, message: string | Error) => {
      failure ??= new Error(`corrupt archive: ${typeof message === "string" ? message : message.message}`);
    });
    stream.on("error", (err) => {
      failure ??= err;
      reject(err);
    });
    parser.on("end", () => resolve());
    parser.on("close", () => resolve());
    stream.pipe(parser);
  });
  await queue;
  if (failure) throw failure;
}
