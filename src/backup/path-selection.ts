// `backup restore --path GLOB`: which snapshot paths a restore selects, and which folders can hold a selected path at
// all, so that a format able to skip a folder's contents (the repository: its trees) and the walk of the live
// locations do not go through the whole snapshot to restore one file.
import picomatch from "picomatch";

export interface PathSelection {
  /** A glob selects an entry when it matches the entry or one of its parent folders. */
  test(p: string): boolean;
  /**
   * Whether the folder `dir` or anything below it can be selected. False only when no glob can match a path that
   * starts with it; a glob whose shape is not plain (braces, extglobs, negation, escapes) answers true, so a folder
   * is never skipped wrongly.
   */
  mayContain(dir: string): boolean;
  /** The globs that selected nothing so far. */
  unmatched(): string[];
}

type Segment = { globstar: true } | { globstar: false; test: (name: string) => boolean };

/** The glob cut at its slashes, one matcher per segment; undefined when its shape is not plain enough to cut. */
function segmentsOf(glob: string): Segment[] | undefined {
  // A slash inside braces, parentheses or a character class, an escape or a negation: not split, never pruned.
  if (/[{}()\\]/.test(glob) || glob.startsWith("!") || /\[[^\]]*\//.test(glob)) return undefined;
  const parts = glob.split("/");
  if (parts.some((s) => s === "" || s === "." || s === "..")) return undefined;
  return parts.map((s) => (s.includes("**") ? { globstar: true } : { globstar: false, test: picomatch(s, { dot: true }) }));
}

/** Whether a path starting with `dirParts` can be matched by the glob (or an ancestor of it already is). */
function canReach(segments: Segment[], dirParts: string[]): boolean {
  for (let i = 0; i < dirParts.length; i++) {
    if (i >= segments.length) return true; // the glob matched a parent folder: everything below is selected
    const s = segments[i]!;
    if (s.globstar) return true;
    if (!s.test(dirParts[i]!)) return false;
  }
  return true;
}

export function pathSelection(globs: readonly string[] | undefined): PathSelection {
  if (!globs?.length) return { test: () => true, mayContain: () => true, unmatched: () => [] };
  const cleaned = globs.map((g) => g.replace(/^\/+|\/+$/g, ""));
  const matchers = cleaned.map((g) => picomatch(g, { dot: true }));
  const segments = cleaned.map(segmentsOf);
  const hit = new Array<boolean>(globs.length).fill(false);
  return {
    test: (p) => {
      const parts = p.split("/");
      let any = false;
      for (let i = parts.length; i > 0; i--) {
        const prefix = parts.slice(0, i).join("/");
        matchers.forEach((m, k) => {
          if (m(prefix)) any = hit[k] = true;
        });
        if (any) return true;
      }
      return false;
    },
    mayContain: (dir) => {
      const parts = dir.split("/");
      return segments.some((s) => s === undefined || canReach(s, parts));
    },
    unmatched: () => globs.filter((_, k) => !hit[k]),
  };
}
