// The restore source built on node-tar's Parser instead of our pull parser (src/backup/restore/tar-source.ts):
// kept in the bench only, to measure which parser is faster on the same stream (restore-bench.ts, "parse" rows).
import type { Readable } from "node:stream";
import { Parser, type ReadEntry } from "tar";
import type { RestoreEntry, RestoreSource } from "../src/backup/restore/entry.ts";

const TYPES: Record<string, RestoreEntry["type"]> = {
  File: "file",
  OldFile: "file",
  ContiguousFile: "file",
  Directory: "dir",
  SymbolicLink: "symlink",
  Link: "hardlink",
};

export function nodeTarSource(stream: Readable): RestoreSource {
  return { entries: entries(stream), sequential: true };
}

async function* entries(stream: Readable): AsyncGenerator<RestoreEntry> {
  const parser = new Parser({ strict: true });
  const queue: ReadEntry[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  parser.on("entry", (e: ReadEntry) => {
    queue.push(e);
    poke();
  });
  parser.on("warn", (_code: string, message: string | Error) => {
    failure ??= new Error(`corrupt archive: ${typeof message === "string" ? message : message.message}`);
    poke();
  });
  parser.on("error", (err: Error) => {
    failure ??= err;
    poke();
  });
  parser.on("end", () => {
    ended = true;
    poke();
  });
  stream.on("error", (err) => {
    failure ??= err;
    poke();
  });
  stream.pipe(parser);
  for (;;) {
    if (failure) throw failure;
    const e = queue.shift();
    if (!e) {
      if (ended) return;
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    const ms = e.mtime?.getTime();
    const entry: RestoreEntry = {
      path: e.path,
      type: TYPES[e.type] ?? "other",
      kind: e.type,
      mode: e.mode ?? 0o644,
      mtime: ms === undefined ? undefined : { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 },
      size: TYPES[e.type] === "file" ? (e.size ?? 0) : 0,
      linkTarget: e.linkpath,
    };
    if (entry.type === "file") entry.content = e as unknown as AsyncIterable<Buffer>;
    yield entry;
    // Content left unread is drained so the parser moves on.
    if (!e.emittedEnd) e.resume();
  }
}
