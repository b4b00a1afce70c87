// rclone's filter glob syntax as JavaScript regular expressions, so the change journal can decide what a
// push covers exactly the way rclone will (rclone remains the authority: the same filters are passed to
// every transfer, and the randomized equivalence test compares against full rclone syncs).
//   /x   anchored at the root        x    matches at any directory level (after a "/")
//   *    any run of non-"/" chars    **   anything, "/" included
//   ?    one non-"/" char            [..] character class ([^..] negates, as in a Go regexp)
//   {a,b} alternatives             \c literal c

export function rcloneGlobToRegExp(glob: string): RegExp {
  let re = "";
  let i = 0;
  let anchored = false;
  if (glob.startsWith("/")) {
    anchored = true;
    i = 1;
  }
  let braceDepth = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === "\\") {
      const next = glob[i + 1];
      if (next !== undefined) re += next.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      i += 2;
      continue;
    }
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += ".*";
        i += 2;
      } else {
        re += "[^/]*";
        i++;
      }
      continue;
    }
    if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end === -1) re += "\\[";
      else {
        // rclone copies a class into its Go regexp as written: "[^a]" negates, "[!a]" is "!" or "a".
        re += `[${glob.slice(i + 1, end)}]`;
        i = end + 1;
        continue;
      }
    } else if (c === "{") {
      braceDepth++;
      re += "(?:";
    } else if (c === "}" && braceDepth > 0) {
      braceDepth--;
      re += ")";
    } else if (c === "," && braceDepth > 0) re += "|";
    else re += c.replace(/[.+^${}()|[\]\\/]/g, "\\$&");
    i++;
  }
  return new RegExp(`${anchored ? "^" : "(?:^|/)"}${re}$`);
}

export interface Excluder {
  /** True when rclone's excludes drop this file (relative path, "/" separators). */
  file(rel: string): boolean;
  /** True only when every path below this directory is certainly excluded (safe to skip the walk). */
  dir(rel: string): boolean;
}

export function makeExcluder(patterns: readonly string[]): Excluder {
  // One alternation per kind: a single regex test per path instead of one per pattern.
  const combine = (res: RegExp[]) => (res.length ? new RegExp(res.map((r) => `(?:${r.source})`).join("|")) : undefined);
  const fileRe = combine(patterns.map(rcloneGlobToRegExp));
  // A pattern "X/**" excludes a whole directory matching X: prune it without walking.
  const dirRe = combine(patterns.filter((p) => p.endsWith("/**")).map((p) => rcloneGlobToRegExp(p.slice(0, -3))));
  return {
    file: (rel) => !!fileRe?.test(rel),
    dir: (rel) => !!dirRe?.test(rel),
  };
}
