// A repository in a local folder, laid out as restic's local backend does (`restic -r /path`): used for the state
// dir's own needs, fast tests, and by anyone pointing the product at a plain path. Writes go to a temporary name
// and are renamed into place, so a crash never leaves a partial file under a final name.
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { ByteRange, FileInfo, FileType, ListableType, Storage } from "./storage.js";
import { notFound, repoPath } from "./storage.js";

const isNotFound = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

export class DirStorage implements Storage {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = root;
  }

  private file(type: FileType, name: string): string {
    return path.join(this.root, repoPath(type, name));
  }

  async create(): Promise<void> {
    for (const dir of ["index", "keys", "locks", "snapshots"]) await mkdir(path.join(this.root, dir), { recursive: true, mode: 0o700 });
    for (let i = 0; i < 256; i++) await mkdir(path.join(this.root, "data", i.toString(16).padStart(2, "0")), { recursive: true, mode: 0o700 });
  }

  async list(type: ListableType): Promise<FileInfo[]> {
    const dirs = type === "data" ? await readdir(path.join(this.root, "data")).catch((e: unknown) => (isNotFound(e) ? [] : Promise.reject(e))) : [""];
    const out: FileInfo[] = [];
    for (const sub of dirs) {
      const dir = path.join(this.root, type, sub);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (isNotFound(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") continue;
        throw err;
      }
      for (const name of names) {
        if (name.endsWith(".tmp") || name.startsWith(".")) continue;
        const st = await stat(path.join(dir, name)).catch(() => undefined);
        if (st?.isFile()) out.push({ name, size: st.size });
      }
    }
    return out;
  }

  async stat(type: FileType, name: string): Promise<number | undefined> {
    try {
      const st = await stat(this.file(type, name));
      return st.size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async load(type: FileType, name: string, range?: ByteRange): Promise<Buffer> {
    let handle;
    try {
      handle = await open(this.file(type, name), "r");
    } catch (err) {
      if (isNotFound(err)) throw notFound(type, name, this.location);
      throw err;
    }
    try {
      if (!range) return await handle.readFile();
      const buf = Buffer.alloc(range.length);
      let got = 0;
      while (got < range.length) {
        const { bytesRead } = await handle.read(buf, got, range.length - got, range.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await handle.close();
    }
  }

  async save(type: FileType, name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const target = this.file(type, name);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    const handle = await open(tmp, "wx", 0o600);
    try {
      for (const part of data instanceof Uint8Array ? [data] : data) await handle.writeFile(part);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async remove(type: FileType, name: string): Promise<void> {
    await rm(this.file(type, name), { force: true });
  }

  async close(): Promise<void> {}
}
