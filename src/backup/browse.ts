// What the browsing commands (ls, find, diff, export) share: the snapshot a command names, opened with the keys it
// needs, and its tree read the cheapest way its format allows — from the trees alone where the format keeps them
// apart from the data (the restic repository: no file data is downloaded), else by streaming the whole snapshot (the
// archive and legacy formats: the listing then costs a full read, and the commands say so).
import { listCatalog, resolveSnapshot, type Catalog } from "./catalog.js";
import type { ReadOptions, SnapshotEntry, SnapshotNode, SnapshotReader, SnapshotSummary } from "./formats/format.js";
import type { Formats } from "./formats/index.js";
import { installGroup } from "./groups.js";
import type { BackupJob } from "./job.js";
import { unlockFor } from "./keys.js";

export interface OpenedSnapshot {
  snapshot: SnapshotSummary;
  reader: SnapshotReader;
  /** False when listing the tree means reading the whole snapshot (no nodes() in its format). */
  treesApart: boolean;
}

/** The folder's formats and catalog, listed once for a command that may open several snapshots. */
export async function browseContext(formats: Formats): Promise<{ formats: Formats; catalog: Catalog }> {
  return { formats, catalog: await listCatalog(formats.all) };
}

/** Opens a snapshot given as `latest`, an ID prefix or a name; a missing key is a usage error, before any read. */
export async function openNamed(job: BackupJob, ctx: { formats: Formats; catalog: Catalog }, wanted: string | undefined, identity?: string): Promise<OpenedSnapshot> {
  const snapshot = resolveSnapshot(ctx.catalog, wanted, installGroup(job));
  return openListed(ctx.formats, snapshot, await unlockFor(job.config, identity));
}

export function openListed(formats: Formats, snapshot: SnapshotSummary, keys: Awaited<ReturnType<typeof unlockFor>>): OpenedSnapshot {
  const reader = formats.byName(snapshot.format).open(snapshot, keys);
  return { snapshot, reader, treesApart: typeof reader.nodes === "function" };
}

/** A stored path as the commands show it: tar's trailing "/" of a folder dropped (nothing else is changed). */
export const shownPath = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, "") : p);

/**
 * Every node of the snapshot, from its trees when the format keeps them, else from a full read (contents skipped).
 * Paths come as shownPath() makes them.
 */
export async function visitNodes(opened: OpenedSnapshot, visit: (node: SnapshotNode) => Promise<void> | void, opts: ReadOptions = {}): Promise<void> {
  const v = async (n: SnapshotNode) => {
    const path = shownPath(n.path);
    await visit(path === n.path ? n : { ...n, path });
  };
  if (opened.reader.nodes) await opened.reader.nodes(v, opts);
  else await opened.reader.entries(v, opts);
}

/**
 * The entries of a read as an async iterable: each entry is handed out, and the read moves on when the next one is
 * asked for (so an entry's content must be consumed before then). Breaking out of the loop stops the read.
 */
export async function* entryStream(reader: SnapshotReader, opts: ReadOptions = {}): AsyncGenerator<SnapshotEntry> {
  type Slot = { entry: SnapshotEntry; done: () => void };
  let ready: ((slot: Slot | undefined) => void) | undefined;
  let pending: Slot | undefined;
  let finished = false;
  let failure: Error | undefined;
  let stopped = false;
  const handOver = (slot: Slot | undefined) => {
    if (ready) {
      const r = ready;
      ready = undefined;
      r(slot);
    } else pending = slot;
  };
  const reading = reader
    .entries(
      (entry) =>
        new Promise<void>((resolve, reject) => {
          if (stopped) return reject(new Error("stopped"));
          handOver({ entry, done: () => (stopped ? reject(new Error("stopped")) : resolve()) });
        }),
      opts,
    )
    .then(
      () => {
        finished = true;
        handOver(undefined);
      },
      (err: Error) => {
        failure = err;
        finished = true;
        handOver(undefined);
      },
    );
  let current: Slot | undefined;
  try {
    for (;;) {
      current?.done();
      current = undefined;
      const slot =
        pending ??
        (finished
          ? undefined
          : await new Promise<Slot | undefined>((resolve) => {
              ready = resolve;
            }));
      pending = undefined;
      if (!slot) break;
      current = slot;
      yield slot.entry;
    }
    await reading;
    if (failure) throw failure;
  } finally {
    if (!finished) {
      stopped = true;
      current?.done();
      await reading;
    }
  }
}

/** Snapshot paths as users type them: "/workspace/x/" and "workspace/x" are the same. */
export function normalizeSnapshotPath(p: string): string {
  return p.split("/").filter((s) => s !== "" && s !== ".").join("/");
}
