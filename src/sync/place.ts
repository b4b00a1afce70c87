// Moves a finished file from staging into its destination folder without ever overwriting:
// a clash gets a unique name ("report (1).pdf"). link() fails with EEXIST instead of replacing,
// which makes the no-clobber check and the placement one atomic step.
import { copyFile, constants, link, mkdir, readdir, rm, rmdir, unlink } from "node:fs/promises";
import path from "node:path";

export function candidateName(name: string, n: number): string {
  if (n === 0) return name;
  const ext = path.extname(name);
  const stem = ext && ext !== name ? name.slice(0, -ext.length) : name;
  return `${stem} (${n})${ext && ext !== name ? ext : ""}`;
}

/** Places `staged` at `target` (or a unique sibling name); returns the path used. */
export async function placeNoClobber(staged: string, target: string): Promise<string> {
  await mkdir(path.dirname(target), { recursive: true });
  const dir = path.dirname(target);
  const base = path.basename(target);
  for (let n = 0; n < 10_000; n++) {
    const candidate = path.join(dir, candidateName(base, n));
    try {
      await link(staged, candidate);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV") throw err;
      // Filesystems without hard links: exclusive copy (COPYFILE_EXCL also refuses to overwrite).
      try {
        await copyFile(staged, candidate, constants.COPYFILE_EXCL);
      } catch (copyErr) {
        if ((copyErr as NodeJS.ErrnoException).code === "EEXIST") continue;
        await rm(candidate, { force: true });
        throw copyErr;
      }
    }
    await unlink(staged);
    return candidate;
  }
  throw new Error(`no free name for ${target}`);
}

/** All regular files under dir, relative, sorted. */
export async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    for (const e of entries) {
      const childRel = rel ? path.join(rel, e.name) : e.name;
      if (e.isDirectory()) await walk(childRel);
      else if (e.isFile()) out.push(childRel);
    }
  }
  await walk("");
  return out.sort();
}

/** Removes empty folders below dir (not dir itself). */
export async function pruneEmptyDirs(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const child = path.join(dir, e.name);
    await pruneEmptyDirs(child);
    await rmdir(child).catch(() => {});
  }
}
