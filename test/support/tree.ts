// Local tree helpers for byte-exact comparisons.
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
}

/** relpath → content (files only), optionally skipping a top-level folder. */
export async function readTreeContents(root: string, skip: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip.some((s) => r === s || r.startsWith(`${s}/`))) continue;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out[r] = await readFile(path.join(root, r), "utf8");
    }
  }
  await walk("");
  return out;
}

/** Snapshot of everything observable: type, mode, size, mtime, sha256 — for "byte-identical" checks. */
export async function fingerprint(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = await lstat(path.join(root, r));
      if (e.isDirectory()) {
        out[r] = `dir ${st.mode.toString(8)}`;
        await walk(r);
      } else {
        const hash = e.isFile() ? createHash("sha256").update(await readFile(path.join(root, r))).digest("hex") : "";
        out[r] = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${hash}`;
      }
    }
  }
  await walk("");
  return out;
}
