// A format's reader pushes entries to a visitor (SnapshotReader.entries: the next entry comes once the visitor's
// promise settled); the restore writer pulls them (RestoreSource). This hands each entry over, one at a time: the
// reader's visit stays pending until the writer asks for the next entry (it is then done with this one's content),
// and a writer that stops early makes the pending visit fail, so the reader stops reading too.
import { findCause } from "../../util/errors.js";
import type { ReadCheck, ReadOptions, SnapshotEntry, SnapshotNode, SnapshotReader } from "../formats/format.js";
import type { RestoreEntry, RestoreSource, Time } from "./entry.js";
import { type WriteOptions, type WriteStats, writeEntries } from "./writer.js";
import { smallFileWriter } from "./file-writers.js";
import type { HelperPort } from "../../util/helper-port.js";

/** What the reader is told when the writer stopped taking entries (the writer's own error is the one reported). */
export class WriterStopped extends Error {
  constructor() {
    super("the restore writer stopped");
    this.name = "WriterStopped";
  }
}

/** The reader stopped because the writer did (a format wraps the reason in its own message, keeping it as the cause). */
const causedByWriterStop = (err: unknown): boolean => findCause(err, (e) => e instanceof WriterStopped) !== undefined;

const toTime = (d: Date): Time => {
  const ms = d.getTime();
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: (ms - sec * 1000) * 1e6 };
};

/** A Uint8Array as a Buffer over the same memory (the writer owns it from here; readers hand out fresh memory). */
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

async function* buffers(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield asBuffer(c);
}

/** A snapshot entry in the writer's terms (modes default as tar and restic leave them: 0644 files, 0755 folders). */
export function toRestoreEntry(e: SnapshotEntry): RestoreEntry {
  return {
    path: e.path,
    type: e.type,
    mode: e.mode ?? (e.type === "dir" ? 0o755 : 0o644),
    ...(e.mtime ? { mtime: toTime(e.mtime) } : {}),
    size: e.type === "file" ? e.size : 0,
    ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
    ...(e.kind !== undefined ? { kind: e.kind } : {}),
    ...(e.problem !== undefined ? { refused: e.problem } : {}),
    ...(e.type === "file" ? { content: buffers(e.content()) } : {}),
  };
}

interface Handed {
  entry: RestoreEntry;
  release: () => void;
  fail: (err: Error) => void;
}

/**
 * Runs `reader.entries` and offers what it visits as a pull source. `take` decides per entry: a RestoreEntry for the
 * writer, or undefined to pass over it (the caller reports it, e.g. a name the format itself flagged as hostile).
 * `done` settles when the reader is finished: its check, or its failure (WriterStopped when the writer quit first).
 */
export function readerSource(
  reader: SnapshotReader,
  take: (e: SnapshotEntry) => RestoreEntry | undefined,
  opts: ReadOptions = {},
): { source: RestoreSource; done: Promise<ReadCheck> } {
  let handed: Handed | undefined; // offered to the writer, not taken yet
  let current: Handed | undefined; // taken: the reader waits until the writer asks for the next one
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: unknown;
  let stopped = false;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const visit = (e: SnapshotEntry) =>
    new Promise<void>((release, fail) => {
      if (stopped) return fail(new WriterStopped());
      const entry = take(e);
      if (!entry) return release();
      handed = { entry, release, fail };
      poke();
    });

  const done = reader.entries(visit, opts).then(
    (check) => {
      ended = true;
      poke();
      return check;
    },
    (err: unknown) => {
      ended = true;
      failure = err;
      poke();
      throw err;
    },
  );
  done.catch(() => {}); // the caller awaits it; the generator below rethrows the failure to the writer

  async function* entries(): AsyncGenerator<RestoreEntry> {
    try {
      for (;;) {
        current?.release(); // the writer is done with the previous entry
        current = undefined;
        while (!handed && !ended) await new Promise<void>((r) => (wake = r));
        if (handed) {
          current = handed;
          handed = undefined;
          yield current.entry;
          continue;
        }
        if (failure !== undefined) throw failure;
        return;
      }
    } finally {
      // The writer stopped (finished, failed or broke off): a reader still waiting on a visit must not wait forever.
      stopped = true;
      const waiting = current ?? handed;
      current = handed = undefined;
      waiting?.fail(new WriterStopped());
    }
  }

  return { source: { entries: entries(), sequential: true }, done };
}

/**
 * The folders a restore creates first (WriteOptions.folders), from a format that walks its trees without the data
 * (none from the others: they would have to read everything twice). `pick` says which folders the restore writes;
 * `onNode` sees every node of the same walk (a selection counts its files there).
 */
export async function foldersFirst(
  reader: SnapshotReader,
  pick: (n: SnapshotNode) => boolean,
  opts: Pick<ReadOptions, "signal" | "descend"> = {},
  onNode?: (n: SnapshotNode) => void,
): Promise<string[]> {
  const folders: string[] = [];
  if (!reader.nodes) return folders;
  await reader.nodes(async (n) => {
    onNode?.(n);
    if (n.type === "dir" && n.problem === undefined && pick(n)) folders.push(n.path);
  }, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.descend ? { descend: opts.descend } : {}),
    // Nobody looks at the other nodes: a format may leave them undecoded.
    ...(onNode ? {} : { foldersOnly: true }),
  });
  return folders;
}

/**
 * Writes what `reader` streams (each entry as `take` decides) with the restore writer. A failure of the reader (damaged
 * data, a wrong key, the transport gone) is reported as the cause, not what the writer saw of it (a file cut short).
 */
export async function writeFromReader(
  reader: SnapshotReader,
  take: (e: SnapshotEntry) => RestoreEntry | undefined,
  readOpts: ReadOptions,
  writeOpts: WriteOptions,
): Promise<{ stats: WriteStats; check: ReadCheck }> {
  // Where the read decodes on a helper thread, the small files are written there too; else on this thread.
  let helper: (() => HelperPort | undefined) | undefined;
  const { source, done } = readerSource(reader, take, { ...readOpts, onThread: (port) => (helper = port) });
  const fileWriter = () => smallFileWriter({ port: helper?.() });
  let stats: WriteStats;
  try {
    stats = await writeEntries(source, { fileWriter, ...writeOpts });
  } catch (err) {
    const read = await done.then(() => undefined, (e: unknown) => e);
    throw read !== undefined && !causedByWriterStop(read) ? read : err;
  }
  return { stats, check: await done };
}

/** Restores what `reader` streams into `target` with no rule of the command's (tests and benchmarks of a read side). */
export function restoreReader(reader: SnapshotReader, target: string, opts: ReadOptions & { filter?: (rel: string) => boolean } = {}): Promise<{ stats: WriteStats; check: ReadCheck }> {
  const { filter, ...readOpts } = opts;
  return writeFromReader(reader, toRestoreEntry, readOpts, { target, ...(filter ? { filter } : {}) });
}
