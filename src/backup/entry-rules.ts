// What of a snapshot may be restored, decided the same way for every format and every reader (restore, its dry run,
// verify): a path must stay inside the target (no absolute path, no "..", no NUL), and only files, folders and
// symlinks are restored (hard links, devices, fifos are refused and reported).
import type { SnapshotNode, SnapshotReader } from "./formats/format.js";
import { safeRelative } from "./restore/safe-path.js";

export { safeRelative };

export type Verdict = { rel: string; refused?: undefined } | { rel?: string; refused: string };

/** The snapshot's root folder itself ("./" in tars made with `tar -C dir .`): the target is that folder; skipped. */
export const isSnapshotRoot = (node: SnapshotNode): boolean => node.type === "dir" && /^[./]*$/.test(node.path);

/** The safe relative path of a node, or why it is refused. */
export function judge(node: SnapshotNode): Verdict {
  if (node.problem) return { refused: node.problem };
  const { rel, reason } = safeRelative(node.path);
  if (!rel) return { refused: reason! };
  if (node.type === "other") return { rel, refused: `${node.kind ?? "special"} entries are not restored` };
  return { rel };
}

export interface Counts {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

export const noCounts = (): Counts => ({ files: 0, dirs: 0, symlinks: 0, bytes: 0 });

/** Counts a restorable node (what verify reports and a snapshot's record is compared with). */
export function count(c: Counts, node: SnapshotNode): void {
  if (node.type === "dir") c.dirs++;
  else if (node.type === "symlink") c.symlinks++;
  else if (node.type === "file") {
    c.files++;
    c.bytes += node.size;
  }
}

/** Reads a whole snapshot through a reader, counting what a restore would write (verify's data check). */
export async function tallyEntries(
  reader: SnapshotReader,
  opts: { signal?: AbortSignal; onBytes?: (read: number, total: number) => void; onEntry?: (node: SnapshotNode) => void },
): Promise<{ found: Counts; storedBytes: number; digest?: string }> {
  const found = noCounts();
  const read = await reader.entries(
    async (e) => {
      if (isSnapshotRoot(e) || judge(e).refused !== undefined) return;
      count(found, e);
      opts.onEntry?.(e);
    },
    { signal: opts.signal, onBytes: opts.onBytes },
  );
  return { found, storedBytes: read.storedBytes, ...(read.digest ? { digest: read.digest } : {}) };
}
