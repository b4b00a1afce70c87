// Walks ahead while a backup waits for something else. Listing a repository first derives its key (scrypt, ~0.25 s
// on the thread pool); the walk's lstat of every entry (~0.25 s for 20,000 files) needs none of that and runs
// meanwhile on the main thread, which would otherwise sit idle.
//
// Bounded: at most `maxEntries` are held, and reading ahead stops after an entry whose file is transient (a captured
// database copy is removed when the next entry is pulled, so nothing may be pulled past it before it is read).
import type { WalkEntry } from "./tree-walk.js";

export interface ReadAhead {
  /** The same entries, in the same order: first those read ahead, then the rest straight from the source. */
  entries: AsyncIterable<WalkEntry>;
  /** Stops reading ahead and closes the source (the run ends without consuming the entries). */
  cancel(): Promise<void>;
}

/**
 * Entries held at most (~0.5 KB each with their compact lstat, tree-walk.ts EntryStats) when most files will come from
 * a parent snapshot: about what the walk reads in a key derivation's time, handed on as fast as they were read.
 */
export const READ_AHEAD_ENTRIES = 20_000;

/**
 * Entries held at most when every file's data will be read (a first repository backup, an archive): there the entries
 * wait for the data of those before them, most of the run. 20,000 of them held ~10 MiB through a first 1 GiB backup
 * whose large files came first (peak RSS over sftp 151–155 MiB; 138–144 MiB with 4,000, same time: docs/performance.md).
 */
export const READ_AHEAD_ENTRIES_READING_ALL = 4_000;

/** How far to read ahead: far only when the run is likely to take most files from a parent snapshot. */
export function readAheadEntries(likelyIncremental: boolean): number {
  return likelyIncremental ? READ_AHEAD_ENTRIES : READ_AHEAD_ENTRIES_READING_ALL;
}

/** Yields to timers and I/O (the key derivation's callback, the lock's writes) after this long of walking. */
const SLICE_MS = 10;

export function readAhead(source: AsyncIterable<WalkEntry>, maxEntries: number): ReadAhead {
  const it = source[Symbol.asyncIterator]();
  const held: WalkEntry[] = [];
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  let consuming = false;
  let cancelled = false;

  const filling = (async () => {
    let since = Date.now();
    while (!consuming && !cancelled && held.length < maxEntries) {
      const next = await it.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      held.push(next.value);
      if (next.value.transient) return;
      if (Date.now() - since >= SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        since = Date.now();
      }
    }
  })().catch((error: unknown) => {
    failure = { error };
  });

  async function* entries(): AsyncGenerator<WalkEntry> {
    if (consuming) throw new Error("the entries can be consumed once");
    consuming = true;
    // The source's next() in flight finishes first: an async iterator is never pulled twice at once.
    await filling;
    let delegated = false;
    try {
      for (let i = 0; i < held.length; i++) {
        const e = held[i]!;
        held[i] = undefined as unknown as WalkEntry; // let each entry go once handed out
        yield e;
      }
      held.length = 0;
      // A walk failure surfaces where the consumer would have met it, after the entries before it.
      if (failure) throw failure.error;
      if (exhausted) return;
      delegated = true;
      yield* { [Symbol.asyncIterator]: () => it };
    } finally {
      // A consumer that stopped among the entries read ahead closes the source too (yield* does it afterwards).
      if (!delegated && !exhausted && !failure) await it.return?.(undefined);
    }
  }

  return {
    entries: { [Symbol.asyncIterator]: () => entries() },
    async cancel() {
      cancelled = true;
      await filling;
      if (!consuming && !exhausted && !failure) await it.return?.(undefined);
    },
  };
}
