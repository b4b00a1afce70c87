// A streaming tar writer: ustar headers, GNU long-name records for names of any length or bytes, pax
// records for sub-second mtimes and sizes >= 8 GiB (GNU tar and node-tar read all three). Output goes out in 1 MiB
// pieces with backpressure: memory stays bounded whatever the size.
import { OperationError } from "../../../util/errors.js";
import { closeSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import type { BufferPool } from "./buffer-pool.js";
import type { WalkEntry } from "../../tree-walk.js";

const BLOCK = 512;

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

/**
 * Milliseconds as pax's decimal seconds with microseconds, rounded but never into another whole second: the restored
 * file must stay in its second, which the comparison with live files (and rsync's quick check) looks at.
 */
export function paxSeconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const micros = Math.min(999_999, Math.max(0, Math.round((ms - whole * 1000) * 1000)));
  if (whole >= 0 || micros === 0) return `${whole}.${String(micros).padStart(6, "0")}`;
  // -1.25 s is whole -2 plus 0.75 s; pax writes it "-1.250000"
  return `-${-whole - 1}.${String(1_000_000 - micros).padStart(6, "0")}`;
}

function entryHeaders(e: WalkEntry): Buffer[] {
  const name = e.type === "dir" ? `${e.archivePath}/` : e.archivePath;
  const type = e.type === "dir" ? "5" : e.type === "symlink" ? "2" : "0";
  const size = e.type === "file" ? e.size : 0;
  const fits = (s: string) => Buffer.byteLength(s) <= 100 && /^[\x20-\x7e]*$/.test(s);
  // pax carries what ustar cannot: sub-second mtimes and sizes of 8 GiB and more.
  const records = [paxRecord("mtime", paxSeconds(e.mtimeMs))];
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
  /** Where full batches come from (of TAR_BATCH bytes); the consumer returns them. */
  pool?: BufferPool;
}

/** Output pieces: headers and file data are laid out in full 1 MiB buffers — the block size the zstd stage compresses,
 * which then takes them as they are, without copying — so a tree of small files does not become tens of thousands of
 * tiny chunks that every later stage (zstd, age, the hash, the pipe) pays for one by one. */
export const TAR_BATCH = 1 << 20;
/** Files up to this size are read with synchronous reads straight into the batch: no thread-pool round trips
 * (open, read, close) per file. Bigger files are read asynchronously, so the event loop (the gateway's, in plugin
 * mode) is never blocked for long. */
const SMALL_FILE = 256 * 1024;

class Batch {
  constructor(private readonly pool?: BufferPool) {}
  buf = this.fresh();
  used = 0;
  /** Batches handed out so far. */
  taken = 0;
  get free(): number {
    return TAR_BATCH - this.used;
  }
  private fresh(): Buffer {
    return this.pool?.get() ?? Buffer.allocUnsafe(TAR_BATCH);
  }
  /** Hands out what is filled and starts a fresh buffer (the consumer keeps the old one, and may give it back). */
  take(): Buffer {
    const out = this.used === TAR_BATCH ? this.buf : this.buf.subarray(0, this.used);
    this.buf = this.fresh();
    this.used = 0;
    this.taken++;
    return out;
  }
}

/** A file shrank while it was streamed into the archive: its header already promised more bytes than it has. */
export class FileShrankError extends OperationError {
  constructor(readonly file: string, expected: number, got: number) {
    super(
      `${file} shrank from ${expected} to ${got} bytes while it was being archived (rewritten during the backup): ` +
        "no snapshot was committed with made-up bytes; run the backup again (or exclude the file if it is rewritten constantly)",
    );
  }
}

/**
 * An entry to pack. `content`, when given, is the file's bytes (exactly `size` of them) and replaces reading `absPath`:
 * `backup export` packs a stored snapshot's entries this way.
 */
export type PackEntry = WalkEntry & { content?: () => AsyncIterable<Uint8Array> };

/**
 * Tar stream of the entries. A small file is read whole before its header is written, so its header states what was
 * read; a large file is streamed after its header: if it shrinks meanwhile the stream fails (FileShrankError) rather
 * than pad it with zeros, and if it grows it is cut at the header's size (a consistent prefix of the file). A content
 * stream must hold exactly the entry's size.
 */
export function createTarPackStream(entries: AsyncIterable<PackEntry>, opts: PackOptions = {}): Readable {
  const progress: PackProgress = { bytes: 0, files: 0 };
  const batch = new Batch(opts.pool);
  const small = Buffer.allocUnsafe(SMALL_FILE);
  const full = () => {
    opts.onProgress?.(progress);
    return batch.take();
  };
  /** Copies `b` in; a batch leaves only when exactly full. */
  function* put(b: Buffer): Generator<Buffer> {
    for (let at = 0; at < b.length; ) {
      if (batch.free === 0) yield full();
      const n = b.copy(batch.buf, batch.used, at, Math.min(b.length, at + batch.free));
      batch.used += n;
      at += n;
    }
  }
  function* zeros(count: number): Generator<Buffer> {
    for (let left = count; left > 0; ) {
      if (batch.free === 0) yield full();
      const n = Math.min(batch.free, left);
      batch.buf.fill(0, batch.used, batch.used + n);
      batch.used += n;
      left -= n;
    }
  }
  /** Reads up to `size` bytes of a small file into `small`; returns how many the file still had. */
  function readSmall(fd: number, size: number): number {
    let got = 0;
    while (got < size) {
      const n = readSync(fd, small, got, size - got, null);
      if (n === 0) break;
      got += n;
    }
    progress.bytes += got;
    return got;
  }
  const skipped = (e: WalkEntry, err: unknown) =>
    // Vanished or unreadable before its header was written: skip it cleanly.
    opts.onWarning?.(`skipped ${e.absPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);

  async function* generate(): AsyncGenerator<Buffer> {
    let turns = 0;
    for await (const e of entries) {
      // Sync reads run on microtasks alone and would starve timers and sockets: an event-loop turn per batch.
      if (batch.taken !== turns) {
        turns = batch.taken;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (e.type !== "file") {
        yield* put(Buffer.concat(entryHeaders(e)));
        continue;
      }
      if (e.content) {
        yield* put(Buffer.concat(entryHeaders(e)));
        let got = 0;
        for await (const chunk of e.content()) {
          got += chunk.length;
          if (got > e.size) break;
          yield* put(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
          progress.bytes += chunk.length;
        }
        if (got !== e.size) throw new OperationError(`${e.archivePath}: the content holds ${got} bytes where its entry says ${e.size}`);
        yield* zeros((BLOCK - (e.size % BLOCK)) % BLOCK);
        progress.files++;
        continue;
      }
      if (e.size <= SMALL_FILE) {
        let fd: number;
        try {
          fd = openSync(e.absPath, "r");
        } catch (err) {
          skipped(e, err);
          continue;
        }
        let got: number;
        try {
          got = readSmall(fd, e.size);
        } finally {
          closeSync(fd);
        }
        // The header states what was read: a file that shrank since the walk is stored as it is now, never padded.
        yield* put(Buffer.concat(entryHeaders(got === e.size ? e : { ...e, size: got })));
        yield* put(small.subarray(0, got));
        yield* zeros((BLOCK - (got % BLOCK)) % BLOCK);
        progress.files++;
        continue;
      }
      const headers = Buffer.concat(entryHeaders(e));
      const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
      let got = 0;
      let handle;
      try {
        handle = await open(e.absPath, "r");
      } catch (err) {
        skipped(e, err);
        continue;
      }
      try {
        yield* put(headers);
        while (got < e.size) {
          if (batch.free === 0) yield full();
          const { bytesRead } = await handle.read(batch.buf, batch.used, Math.min(batch.free, e.size - got), null);
          if (bytesRead === 0) break;
          batch.used += bytesRead;
          got += bytesRead;
          progress.bytes += bytesRead;
        }
      } finally {
        await handle.close();
      }
      if (got < e.size) throw new FileShrankError(e.absPath, e.size, got);
      yield* zeros(pad);
      progress.files++;
    }
    yield* zeros(BLOCK * 2);
    if (batch.used > 0) yield full();
    opts.onProgress?.(progress);
  }
  return Readable.from(generate(), { objectMode: false, highWaterMark: 4 << 20 });
}
