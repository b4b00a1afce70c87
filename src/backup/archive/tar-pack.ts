// A streaming tar writer: ustar headers, GNU long-name records for names of any length or bytes, pax
// records for sub-second mtimes and sizes >= 8 GiB (GNU tar and node-tar read all three). Files are read in 1 MiB pieces with backpressure: memory stays bounded whatever the size.
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import type { WalkEntry } from "./tree-walk.js";

const BLOCK = 512;
const READ_SIZE = 1 << 20;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function header(name: string, opts: { type: string; size: number; mode: number; mtime: number; linkname?: string }): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(name, 0, 100, "utf8");
  buf.write(octal(opts.mode & 0o7777, 8), 100, 8, "ascii");
  buf.write(octal(0, 8), 108, 8, "ascii");
  buf.write(octal(0, 8), 116, 8, "ascii");
  buf.write(octal(opts.size, 12), 124, 12, "ascii");
  buf.write(octal(Math.max(0, Math.floor(opts.mtime)), 12), 136, 12, "ascii");
  buf.write("        ", 148, 8, "ascii");
  buf.write(opts.type, 156, 1, "ascii");
  if (opts.linkname) buf.write(opts.linkname, 157, 100, "utf8");
  buf.write("ustar\0", 257, 6, "ascii");
  buf.write("00", 263, 2, "ascii");
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(octal(sum, 7) + " ", 148, 8, "ascii");
  return buf;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** A GNU long-name ("L") or long-link ("K") record: names of any length and any bytes, newlines included. */
function gnuLong(type: "L" | "K", value: string): Buffer[] {
  const data = Buffer.from(`${value}\0`, "utf8");
  return [header("././@LongLink", { type, size: data.length, mode: 0o644, mtime: 0 }), data, padding(data.length)];
}

function entryHeaders(e: WalkEntry): Buffer[] {
  const name = e.type === "dir" ? `${e.archivePath}/` : e.archivePath;
  const type = e.type === "dir" ? "5" : e.type === "symlink" ? "2" : "0";
  const size = e.type === "file" ? e.size : 0;
  const fits = (s: string) => Buffer.byteLength(s) <= 100 && /^[\x20-\x7e]*$/.test(s);
  // pax carries what ustar cannot: sub-second mtimes and sizes of 8 GiB and more.
  const records = [paxRecord("mtime", (e.mtimeMs / 1000).toFixed(6))];
  if (size > 0o77777777777) records.push(paxRecord("size", String(size)));
  const pax = Buffer.from(records.join(""), "utf8");
  const out: Buffer[] = [header("PaxHeader", { type: "x", size: pax.length, mode: 0o644, mtime: e.mtimeMs / 1000 }), pax, padding(pax.length)];
  if (!fits(name)) out.push(...gnuLong("L", name));
  const linkFits = e.linkTarget === undefined || fits(e.linkTarget);
  if (!linkFits) out.push(...gnuLong("K", e.linkTarget!));
  out.push(
    header(fits(name) ? name : "././@LongName", {
      type,
      size: size > 0o77777777777 ? 0 : size,
      mode: e.mode,
      mtime: e.mtimeMs / 1000,
      linkname: e.linkTarget !== undefined && linkFits ? e.linkTarget : undefined,
    }),
  );
  return out;
}

export interface PackProgress {
  bytes: number;
  files: number;
}

export interface PackOptions {
  onProgress?: (p: PackProgress) => void;
  onWarning?: (msg: string) => void;
}

/** Tar stream of the entries. A file that shrinks while read is padded (and reported); one that grows is cut at the header's size. */
export function createTarPackStream(entries: AsyncIterable<WalkEntry>, opts: PackOptions = {}): Readable {
  const progress: PackProgress = { bytes: 0, files: 0 };
  async function* generate(): AsyncGenerator<Buffer> {
    for await (const e of entries) {
      if (e.type !== "file") {
        yield Buffer.concat(entryHeaders(e));
        continue;
      }
      let handle;
      try {
        handle = await open(e.absPath, "r");
      } catch (err) {
        // Vanished or unreadable before its header was written: skip it cleanly.
        opts.onWarning?.(`skipped ${e.absPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        continue;
      }
      try {
        yield Buffer.concat(entryHeaders(e));
        let left = e.size;
        while (left > 0) {
          const buf = Buffer.allocUnsafe(Math.min(READ_SIZE, left));
          const { bytesRead } = await handle.read(buf, 0, buf.length, null);
          if (bytesRead === 0) {
            opts.onWarning?.(`${e.absPath} shrank while being archived; padded to its recorded size`);
            yield Buffer.alloc(left);
            left = 0;
            break;
          }
          left -= bytesRead;
          progress.bytes += bytesRead;
          yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
          opts.onProgress?.(progress);
        }
        yield padding(e.size);
        progress.files++;
      } finally {
        await handle.close();
      }
    }
    yield Buffer.alloc(BLOCK * 2);
  }
  return Readable.from(generate(), { objectMode: false, highWaterMark: 4 << 20 });
}
