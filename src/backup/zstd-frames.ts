// zstd on every core: the stream is cut into blocks compressed in parallel (node:zlib's one-shot zstd runs on the
// libuv threadpool) and written as consecutive zstd frames — a standard zstd stream (RFC 8878: one or more frames)
// that `zstd -d` decodes as usual. Node's own zstd decompressor stops after the first frame and silently drops
// the rest, so decoding walks the frame structure and gives each frame its own decompressor.
import os from "node:os";
import { Transform, type TransformCallback } from "node:stream";
import zlib from "node:zlib";

const MIB = 1 << 20;

export interface ParallelZstdOptions {
  level?: number;
  /** Bytes per frame: large enough that the 2 MiB window of level 3 loses nothing measurable at the cuts. */
  blockSize?: number;
  /** Frames compressed at once (default: one core is left to the tar producer, encryption and rclone; at most 4). */
  parallel?: number;
}

interface Job {
  done: boolean;
  out?: Buffer;
  err?: Error | null;
}

export function createParallelZstdCompressor(opts: ParallelZstdOptions = {}): Transform {
  const blockSize = opts.blockSize ?? 2 * MIB;
  const parallel = opts.parallel ?? Math.min(4, Math.max(1, os.availableParallelism() - 1));
  const params = {
    [zlib.constants.ZSTD_c_compressionLevel]: opts.level ?? 3,
    // Each frame carries its checksum: a plain (unencrypted) snapshot detects corruption on its own too.
    [zlib.constants.ZSTD_c_checksumFlag]: 1,
  };
  const queue: Job[] = [];
  let parts: Buffer[] = [];
  let length = 0;
  let submitted = 0;
  let waiting: (() => void) | undefined;

  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      parts.push(chunk);
      length += chunk.length;
      while (length >= blockSize) {
        const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
        submit(all.subarray(0, blockSize));
        const rest = all.subarray(blockSize);
        parts = rest.length ? [rest] : [];
        length = rest.length;
      }
      if (queue.length >= parallel) waiting = () => cb();
      else cb();
    },
    flush(cb: TransformCallback) {
      // An empty input still becomes one (empty) frame: a valid zstd stream.
      if (length || submitted === 0) submit(parts.length === 1 ? parts[0]! : Buffer.concat(parts, length));
      parts = [];
      length = 0;
      const finish = () => {
        if (queue.length === 0) cb();
        else waiting = finish;
      };
      finish();
    },
  });

  function submit(block: Buffer): void {
    const job: Job = { done: false };
    queue.push(job);
    submitted++;
    zlib.zstdCompress(block, { params, chunkSize: MIB }, (err, out) => {
      job.done = true;
      job.err = err;
      job.out = out;
      drain();
    });
  }

  function drain(): void {
    while (queue[0]?.done) {
      const job = queue.shift()!;
      if (job.err) return void t.destroy(job.err);
      t.push(job.out);
    }
    if (waiting && queue.length < parallel) {
      const w = waiting;
      waiting = undefined;
      w();
    }
  }
  return t;
}

const FRAME_MAGIC = 0xfd2fb528;
const isSkippable = (magic: number) => magic >>> 4 === 0x184d2a5;

export class ZstdFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZstdFrameError";
  }
}

/**
 * Finds frame boundaries without decompressing: frame header, then blocks (3-byte headers carrying their size),
 * then the optional checksum; skippable frames are size-prefixed.
 */
class FrameScanner {
  /** Bytes still to pass through before the next structure to read. */
  private skip = 0;
  private state: "magic" | "skippable-size" | "header" | "block" | "checksum" = "magic";
  private head = Buffer.alloc(0);
  private need = 4;
  private lastBlock = false;
  private checksum = false;

  /** Splits a chunk into segments; a segment ends where a frame ends. */
  *segments(chunk: Buffer): Generator<{ bytes: Buffer; frameEnd: boolean }> {
    let pos = 0;
    let start = 0;
    while (pos < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        this.skip -= n;
        pos += n;
        if (this.skip === 0 && this.afterSkip()) {
          yield { bytes: chunk.subarray(start, pos), frameEnd: true };
          start = pos;
        }
        continue;
      }
      const n = Math.min(this.need - this.head.length, chunk.length - pos);
      this.head = Buffer.concat([this.head, chunk.subarray(pos, pos + n)]);
      pos += n;
      if (this.head.length < this.need) continue;
      if (this.parse() && this.skip === 0) {
        yield { bytes: chunk.subarray(start, pos), frameEnd: true };
        start = pos;
      }
    }
    if (start < chunk.length) yield { bytes: chunk.subarray(start), frameEnd: false };
  }

  /** True between frames (a stream may only end here). */
  get atBoundary(): boolean {
    return this.state === "magic" && this.head.length === 0 && this.skip === 0;
  }

  /** Reads the structure in `head`; returns true when that completes a frame. */
  private parse(): boolean {
    const h = this.head;
    this.head = Buffer.alloc(0);
    switch (this.state) {
      case "magic": {
        const magic = h.readUInt32LE(0);
        if (isSkippable(magic)) {
          this.state = "skippable-size";
          this.need = 4;
          return false;
        }
        if (magic !== FRAME_MAGIC) throw new ZstdFrameError("not zstd data (bad frame magic)");
        this.state = "header";
        this.need = 1;
        return false;
      }
      case "skippable-size":
        this.skip = h.readUInt32LE(0);
        this.state = "magic";
        this.need = 4;
        return this.skip === 0;
      case "header": {
        if (h.length === 1) {
          const fhd = h[0]!;
          if (fhd & 0x08) throw new ZstdFrameError("invalid zstd frame header");
          const single = (fhd >> 5) & 1;
          const fcs = [single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
          const dict = [0, 1, 2, 4][fhd & 3]!;
          this.checksum = !!((fhd >> 2) & 1);
          const rest = (single ? 0 : 1) + dict + fcs;
          if (rest > 0) {
            // Re-read the descriptor with the rest of the header.
            this.head = h;
            this.need = 1 + rest;
            return false;
          }
        }
        this.state = "block";
        this.need = 3;
        return false;
      }
      case "block": {
        const b = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        this.lastBlock = !!(b & 1);
        const type = (b >> 1) & 3;
        if (type === 3) throw new ZstdFrameError("invalid zstd block type");
        this.skip = type === 1 ? 1 : b >>> 3;
        this.need = 3;
        if (this.skip === 0) return this.afterSkip();
        return false;
      }
      case "checksum":
        this.state = "magic";
        this.need = 4;
        return true;
    }
  }

  /** After a block's (or skippable frame's) content: returns true when the frame is complete. */
  private afterSkip(): boolean {
    if (this.state === "magic") return true; // end of a skippable frame
    if (!this.lastBlock) return false;
    if (this.checksum) {
      this.state = "checksum";
      this.need = 4;
      return false;
    }
    this.state = "magic";
    this.need = 4;
    return true;
  }
}

/** Decompresses a stream of one or more zstd frames, each with its own decompressor (libzstd skips skippable ones). */
export function createZstdFramesDecompressor(): Transform {
  const scanner = new FrameScanner();
  let inner: zlib.ZstdDecompress | undefined;
  let innerDone: Promise<void> = Promise.resolve();

  const open = (t: Transform) => {
    const d = zlib.createZstdDecompress({ chunkSize: MIB });
    d.on("data", (out: Buffer) => {
      if (!t.push(out)) d.pause();
    });
    innerDone = new Promise<void>((resolve, reject) => {
      d.on("end", resolve);
      d.on("error", reject);
    });
    innerDone.catch(() => {}); // observed by the awaits below; never an unhandled rejection
    inner = d;
    return d;
  };

  const write = (d: zlib.ZstdDecompress, bytes: Buffer) => new Promise<void>((resolve, reject) => d.write(bytes, (err) => (err ? reject(err) : resolve())));

  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      void (async () => {
        for (const seg of scanner.segments(chunk)) {
          const d = inner ?? open(t);
          await Promise.race([write(d, seg.bytes), innerDone]);
          if (seg.frameEnd) {
            d.end();
            await innerDone;
            inner = undefined;
          }
        }
      })().then(() => cb(), (err: Error) => cb(err));
    },
    flush(cb: TransformCallback) {
      const truncated = new ZstdFrameError("the zstd data is truncated (it ends inside a frame)");
      if (inner) {
        inner.end();
        return void innerDone.then(() => cb(truncated), () => cb(truncated));
      }
      cb(scanner.atBoundary ? null : truncated);
    },
  });
  // Downstream wants more: let the current frame's decompressor continue.
  const read = t._read.bind(t);
  t._read = (size: number) => {
    inner?.resume();
    read(size);
  };
  return t;
}
