// The first safety rule of a restore: a stored path becomes a clean relative path below the target, or it is
// refused. The one implementation: the format-neutral rules (entry-rules.ts) and the writer both use it.

export type SafePath = { rel: string; reason?: undefined } | { rel?: undefined; reason: string };

/** A Windows drive's root: a letter, a colon and a slash or backslash. */
const DRIVE = /^[A-Za-z]:[\\/]/;
/** An empty, "." or ".." segment anywhere (a leading or trailing "/" or "//" make an empty one). */
const ODD_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

/** Cleans a stored path ("a//b/./c" → "a/b/c"); refuses NUL, absolute paths and ".." segments. */
export function safeRelative(p: string): SafePath {
  if (p.includes("\0")) return { reason: "NUL in path" };
  if (p.startsWith("/") || DRIVE.test(p) || p.startsWith("\\")) return { reason: "absolute path" };
  // Already clean (nearly every path, checked up to three times per restored entry): itself, without the split and join.
  if (process.platform !== "win32" && !ODD_SEGMENT.test(p)) return { rel: p };
  // A backslash separates folders only on Windows; on POSIX it is an ordinary character of a name (restic keeps it).
  const parts = p.split(process.platform === "win32" ? /[\\/]+/ : /\/+/).filter((s) => s !== "" && s !== ".");
  if (parts.includes("..")) return { reason: '".." segment' };
  if (parts.length === 0) return { reason: "empty path" };
  return { rel: parts.join("/") };
}

/** "." or "./": the snapshot root itself (GNU tar writes it first); restoring it means nothing. */
export const isRootItself = (p: string): boolean => /^(\.\/*)+$/.test(p);
