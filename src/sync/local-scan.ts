// Walks the local side of a pair with rclone's exclude semantics and returns size + mtime per file:
// the ground truth the change-driven push compares against its index.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { type Dirent, lstatSync, readdirSync, type Stats, statSync } from "node:fs";
import path from "node:path";
import type { Excluder } from "../rclone/glob.js";
import { childEnv } from "../util/child-env.js";

export type FileStamp = [size: number, mtimeMs: number];

/**
 * Synchronous fs calls on purpose: for tens of thousands of small stats they are several times faster than
 * the promise API (no thread-pool round trip per file); a 40k-file scan blocks for ~0.1-0.2 s.
 */
async function scanWalk(root: string, excluder: Excluder, opts: { followSymlinks: boolean }): Promise<Map<string, FileStamp>> {
  const out = new Map<string, FileStamp>();
  const stack: { rel: string; depth: number }[] = [{ rel: "", depth: 0 }];
  while (stack.length) {
    const { rel, depth } = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(rel ? path.join(root, rel) : root, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") continue; // vanished while walking
      throw err;
    }
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(root, childRel);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let st: Stats | undefined;
      if (e.isSymbolicLink()) {
        if (!opts.followSymlinks) continue; // rclone --skip-links
        st = statSync(abs, { throwIfNoEntry: false });
        if (!st) continue;
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) {
        if (!excluder.dir(childRel) && depth < 200) stack.push({ rel: childRel, depth: depth + 1 });
        continue;
      }
      if (!isFile || excluder.file(childRel)) continue;
      st ??= lstatSync(abs, { throwIfNoEntry: false });
      if (st) out.set(childRel, [st.size, st.mtimeMs]);
    }
  }
  return out;
}

/** `find` prunes for exclude patterns that name a literal folder ("node_modules/**", "/_inbox/**"). */
function pruneArgs(patterns: readonly string[]): string[] {
  const args: string[] = [];
  for (const p of patterns) {
    const m = /^(\/|\*\*\/)?([^*?[\]{}\\/]+)\/\*\*$/.exec(p);
    if (!m) continue;
    if (args.length) args.push("-o");
    args.push(...(m[1] === "/" ? ["-path", `./${m[2]}`] : ["-name", m[2]!]));
  }
  return args.length ? ["(", ...args, ")", "-prune", "-o"] : [];
}

/** A scan of the local side: the files (parsed when first asked for) and, from find, a digest of the raw listing. */
export interface LocalScan {
  /**
   * SHA-256 of find's raw listing (size, mtime to the nanosecond and path of every file, in directory order).
   * Equal digests under the same excludes mean an identical tree, so an idle cycle needs no parsing and no index.
   * Undefined from the portable walk.
   */
  digest?: string;
  files(): Map<string, FileStamp>;
}

/**
 * GNU find lists a large tree several times faster than per-file stat calls from JavaScript (one process,
 * no per-call overhead). Its output is filtered with the same excluder, so the result is identical to the
 * walk's; mtimes are rebuilt from seconds + nanoseconds the way Node computes mtimeMs.
 */
function scanWithFind(root: string, excluder: Excluder, opts: { followSymlinks: boolean; patterns: readonly string[] }): Promise<LocalScan | undefined> {
  return new Promise((resolve) => {
    const args = [...(opts.followSymlinks ? ["-L"] : []), ".", "-mindepth", "1", ...pruneArgs(opts.patterns), "-type", "f", "-printf", "%s %T@ %P\\0"];
    const child = spawn("find", args, { cwd: root, env: childEnv(process.env), stdio: ["ignore", "pipe", "ignore"] });
    const hash = createHash("sha256");
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      chunks.push(chunk);
    });
    child.on("error", () => resolve(undefined));
    child.on("close", (code) => {
      if (code !== 0) return resolve(undefined);
      let parsed: Map<string, FileStamp> | undefined;
      resolve({ digest: hash.digest("hex"), files: () => (parsed ??= parseFindListing(Buffer.concat(chunks).toString("utf8"), excluder)) });
    });
  });
}

function parseFindListing(listing: string, excluder: Excluder): Map<string, FileStamp> {
  const out = new Map<string, FileStamp>();
  // Whether a folder lies in an excluded folder, decided once per folder, not once per file.
  const dirExcluded = new Map<string, boolean>();
  const inExcludedDir = (dir: string): boolean => {
    if (dir === "") return false;
    let known = dirExcluded.get(dir);
    if (known === undefined) {
      const slash = dir.lastIndexOf("/");
      known = inExcludedDir(slash === -1 ? "" : dir.slice(0, slash)) || excluder.dir(dir);
      dirExcluded.set(dir, known);
    }
    return known;
  };
  const records = listing.split("\0");
  records.pop(); // after the last NUL
  for (const rec of records) {
    const a = rec.indexOf(" ");
    const b = rec.indexOf(" ", a + 1);
    const rel = rec.slice(b + 1);
    const slash = rel.lastIndexOf("/");
    if (excluder.file(rel) || (slash !== -1 && inExcludedDir(rel.slice(0, slash)))) continue;
    const [sec, frac = "0"] = rec.slice(a + 1, b).split(".");
    out.set(rel, [Number(rec.slice(0, a)), Number(sec) * 1e3 + Number(frac.padEnd(9, "0").slice(0, 9)) / 1e6]);
  }
  return out;
}

let findWorks: boolean | undefined;

/** Size + mtime of every file under root that the excludes keep (with a listing digest when find did the scan). */
export async function scanTree(
  root: string,
  excluder: Excluder,
  opts: { followSymlinks: boolean; patterns?: readonly string[] },
): Promise<LocalScan> {
  if (opts.patterns && findWorks !== false && process.platform === "linux") {
    const found = await scanWithFind(root, excluder, { followSymlinks: opts.followSymlinks, patterns: opts.patterns });
    if (found) {
      findWorks = true;
      return found;
    }
    // No GNU find, or the root vanished mid-scan: the portable walk decides.
    if (findWorks === undefined) findWorks = false;
  }
  const files = await scanWalk(root, excluder, opts);
  return { files: () => files };
}

/** Size + mtime of every file under root that the excludes keep. */
export async function scanLocal(
  root: string,
  excluder: Excluder,
  opts: { followSymlinks: boolean; patterns?: readonly string[] },
): Promise<Map<string, FileStamp>> {
  return (await scanTree(root, excluder, opts)).files();
}
