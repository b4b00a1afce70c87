// The product's own folders inside the workspace (staging, trash): created on demand, and refused when something
// else stands there. A symlink named like them would make rclone write the remote's files wherever it points.
import { lstat, mkdir } from "node:fs/promises";
import path from "node:path";
import { OperationError } from "../util/errors.js";

/** `root/parts...` as real folders (created when missing); throws when a part is a symlink or a file. */
export async function ownFolder(root: string, parts: string[]): Promise<string> {
  let dir = root;
  for (const part of parts) {
    dir = path.join(dir, part);
    const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (!st) {
      await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      });
      continue;
    }
    if (st.isSymbolicLink() || !st.isDirectory()) {
      throw new OperationError(`${dir} is ${st.isSymbolicLink() ? "a symlink" : "not a folder"}; it is the product's own folder: move it away and run again`);
    }
  }
  return dir;
}
