// zstd on every core: the stream is cut into blocks compressed in parallel on the libuv threadpool and written as
// consecutive zstd frames — a standard zstd stream (RFC 8878: one or more frames) that `zstd -d` decodes as usual.
// Node's own zstd decompressor stops after the first frame and silently drops the rest, so decoding walks the
// frame structure and decodes frame by frame, two frames at a time.
import os from "node:os";
import { Transform, type TransformCallback } from "node:stream";
import zlib from "node:zlib";
import type { BufferPool } from "./buffer-pool.js";
import { claimHandedOver, handOver, releaseBuffer } from "../../../util/release-buffer.js";

const MIB = 1 << 20;

export interface ParallelZstdOptions {
  level?: number;
  /**
   * Bytes per frame. 1 MiB: the stored size is within 1% of 2 MiB frames, and every buffer in flight (tar batches,
   * frames, their output) is half as large — 10 GiB peak RSS ~170 → ~150 MiB, same speed.
   */
  blockSize?: number;
  /**
   * Frames compressed at once: all cores but one for the tar producer, encryption and rclone, at least two (measured
   * on 2 cores: 1 GiB in 7.9 s with two frames in flight against 10.0 s with one), at most four.
   */
  parallel?: number;
  /** Blocks that came from this pool are given back once compressed. */
  pool?: BufferPool;
}

interface Job {
  done: boolean;
  out: Buffer[];
}

/**
 * One long-lived compression context: each block is written, then ended as a frame (ZSTD_e_end); the next block
 * starts a new frame in the same context. Reusing the contexts (instead of a one-shot call per block) saves their
 * set-up and the malloc churn of their tables on the worker threads — less CPU and a smaller resident set.
 */
class Lane {
  readonly z: zlib.ZstdCompress;
  job: Job | undefined;
  constructor(params: Record<number, number>, blockSize: number, onError: (err: Error) => void) {
    // Output room for a whole frame (zstd's bound for a block is its size + 1/256 + a few bytes): a frame then
    // compresses in one pass on the worker thread instead of stopping whenever a small output buffer is full and
    // coming back through the event loop (1 GiB: 13.2 s → 11.3 s, 1.7 s less CPU, here with 256 KiB chunks).
    this.z = zlib.createZstdCompress({ params, chunkSize: blockSize + 64 * 1024 });
    this.z.on("data", (c: Buffer) => {
      // Never expected; if it happened the frame order would be wrong, so the snapshot fails instead.
      if (!this.job) return onError(new Error("zstd produced output outside a frame"));
      this.job.out.push(c);
    });
    this.z.on("error", onError);
  }
  /** Compresses one block as one frame; `done` runs once all of the frame's output has been delivered. */
  run(job: Job, block: Buffer, done: () => void): void {
    this.job = job;
    this.z.write(block);
    this.z.flush(zlib.constants.ZSTD_e_end, () =>
      // Output still queued for 'data' is delivered on the next ticks: close the frame after them.
      setImmediate(() => {
        this.job = undefined;
        done();
      }),
    );
  }
}

export function createParallelZstdCompressor(opts: ParallelZstdOptions = {}): Transform {
  const blockSize = opts.blockSize ?? MIB;
  const parallel = opts.parallel ?? Math.min(4, Math.max(2, os.availableParallelism() - 1));
  const params = {
    [zlib.constants.ZSTD_c_compressionLevel]: opts.level ?? 3,
    // Each frame carries its checksum: a plain (unencrypted) snapshot detects corruption on its own too.
    [zlib.constants.ZSTD_c_checksumFlag]: 1,
  };
  const lanes: Lane[] = [];
  const idle: Lane[] = [];
  const queue: Job[] = [];
  let parts: Buffer[] = [];
  let length = 0;
  let submitted = 0;
  let waiting: (() => void) | undefined;
  const fail = (err: Error) => t.destroy(err);

  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      parts.push(chunk);
      length += chunk.length;
      // A piece of exactly one block (the tar writer's batches) goes on as it is, and back to its pool afterwards.
      if (length === blockSize && parts.length === 1) {
        submit(parts[0]!);
        parts = [];
        length = 0;
      }
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
        if (queue.length === 0) {
          for (const lane of lanes) lane.z.close();
          cb();
        } else waiting = finish;
      };
      finish();
    },
    destroy(err, cb) {
      for (const lane of lanes) lane.z.destroy();
      cb(err);
    },
  });

  function submit(block: Buffer): void {
    const job: Job = { done: false, out: [] };
    queue.push(job);
    submitted++;
    // At most `parallel` jobs are queued (the transform waits otherwise), so a lane is free or can be made.
    const lane = idle.pop() ?? new Lane(params, blockSize, fail);
    if (!lanes.includes(lane)) lanes.push(lane);
    lane.run(job, block, () => {
      opts.pool?.release(block);
      job.done = true;
      idle.push(lane);
      drain();
    });
  }

  function drain(): void {
    while (queue[0]?.done) {
      const job = queue.shift()!;
      for (const piece of job.out) t.push(piece);
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

/** Output a lane whose frame is not next in line may hold before it pauses (one of our frames is 1 MiB). */
const HELD_BYTES = 2 * MIB;
/** Input queued on one lane before the reader waits (a single huge frame of another tool's stream). */
const QUEUED_INPUT = 2 * MIB;

interface Frame {
  lane: DecodeLane;
  out: Buffer[];
  outBytes: number;
  /** All of the frame's input was written and its end flushed. */
  flushed: boolean;
  done: boolean;
}

/**
 * One long-lived decompressor that decodes one frame at a time: its input written as it arrives, then flushed with
 * ZSTD_e_end (which fails on a frame cut short) and reset for the next. Output room of 512 KiB: one of our 1 MiB frames
 * in two passes (measured on a 1 GiB archive restore, 5 alternating runs: a whole frame's room, 1088 KiB, was ~4%
 * faster but peaked 4 MiB higher, 147–152 against 144–149 MiB: the restore writer's small files are views of it).
 */
class DecodeLane {
  readonly z = zlib.createZstdDecompress({ chunkSize: MIB / 2 });
  frame: Frame | undefined;
}

/** A copy in memory of its own (never a slice of Node's shared pool, which cannot be freed early). */
function copyOwn(b: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}

/**
 * Decompresses a stream of one or more zstd frames (libzstd skips skippable frames). Frames are independent, so
 * consecutive ones are decoded at the same time on two lanes of the thread pool, their output passed on in stream
 * order: a restore's main thread writes the files of one frame while the next ones are decoded (with one decoder the
 * two took turns: a 1 GiB restore's main thread waited ~40% of its time on text files). A decompressor per frame would
 * cost a native context and output buffer each, freed only when the collector gets to their handles.
 *
 * Memory stays bounded for any stream: a lane whose frame is not next holds at most ~2 MiB of output before it pauses,
 * the next frame's lane pauses when the reader does not keep up, and a huge frame's input waits for its lane.
 */
export function createZstdFramesDecompressor(opts: { lanes?: number; handOver?: boolean } = {}): Transform {
  const scanner = new FrameScanner();
  const laneCount = Math.max(1, opts.lanes ?? 2);
  const lanes: DecodeLane[] = [];
  const free: DecodeLane[] = [];
  const order: Frame[] = []; // frames started and not yet passed on whole, in stream order
  let current: Frame | undefined; // the frame whose input is being written
  let failure: Error | undefined;
  let laneFreed: (() => void) | undefined;
  let finish: (() => void) | undefined;

  const fail = (err: Error) => {
    failure ??= err;
    t.destroy(err);
    const wake = laneFreed;
    laneFreed = undefined;
    wake?.();
  };

  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      // A chunk handed over (the decrypted stream's) is freed once the lanes have taken in all of it: only after
      // every write of it succeeded, as a failed lane's native side may still be reading it.
      const own = claimHandedOver(chunk);
      let unwritten = 1;
      let writeFailed = false;
      const written = (err?: Error | null) => {
        if (err) writeFailed = true;
        if (--unwritten === 0 && own && !writeFailed) releaseBuffer(chunk);
      };
      void (async () => {
        for (const seg of scanner.segments(chunk)) {
          if (!current) current = await startFrame();
          const z = current.lane.z;
          // A huge frame: wait until its lane has taken in what is queued, instead of queueing the whole stream.
          if (z.writableLength > QUEUED_INPUT) {
            unwritten++;
            await settled((done) => z.write(seg.bytes, (err) => (written(err), done(err))));
          } else if (seg.bytes.length) {
            unwritten++;
            z.write(seg.bytes, written);
          }
          if (seg.frameEnd) {
            const frame = current;
            current = undefined;
            z.flush(zlib.constants.ZSTD_e_end, () => {
              frame.flushed = true;
              // Output still on its way to 'data' comes on the next ticks: the frame ends after it.
              setImmediate(() => settle(frame));
            });
          }
        }
      })().then(
        () => (written(), cb()),
        (err: Error) => (written(err), cb(err)),
      );
    },
    flush(cb: TransformCallback) {
      if (!scanner.atBoundary) return cb(new ZstdFrameError("the zstd data is truncated (it ends inside a frame)"));
      finish = () => {
        finish = undefined;
        for (const lane of lanes) lane.z.close();
        cb();
      };
      if (order.length === 0) finish();
    },
    destroy(err, cb) {
      for (const lane of lanes) lane.z.destroy();
      cb(err);
    },
  });

  /** Resolves once `start` calls back, or rejects with the first failure of any lane. */
  function settled(start: (done: (err?: Error | null) => void) => void): Promise<void> {
    if (failure) return Promise.reject(failure);
    return new Promise<void>((resolve, reject) => start((err) => (err ? reject(err) : failure ? reject(failure) : resolve())));
  }

  /** A lane for the next frame: a free one, a new one while fewer than laneCount exist, or the first to finish. */
  async function startFrame(): Promise<Frame> {
    while (!free.length && lanes.length >= laneCount) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => (laneFreed = resolve));
    }
    if (failure) throw failure;
    let lane = free.pop();
    if (!lane) {
      const fresh = new DecodeLane();
      fresh.z.on("data", (out: Buffer) => onData(fresh, out));
      fresh.z.on("error", fail);
      lanes.push(fresh);
      lane = fresh;
    }
    const frame: Frame = { lane, out: [], outBytes: 0, flushed: false, done: false };
    lane.frame = frame;
    order.push(frame);
    return frame;
  }

  function onData(lane: DecodeLane, decoded: Buffer): void {
    // zlib's output is a view of a buffer it goes on filling: what is handed over must be a copy of its own.
    const out = opts.handOver ? handOver(copyOwn(decoded)) : decoded;
    const frame = lane.frame;
    // Never expected (a lane only decodes between a frame's start and its end); passing it on would misplace it.
    if (!frame) return fail(new ZstdFrameError("zstd produced output outside a frame"));
    if (frame === order[0]) {
      if (!t.push(out)) lane.z.pause();
    } else {
      frame.out.push(out);
      frame.outBytes += out.length;
      if (frame.outBytes >= HELD_BYTES) lane.z.pause();
    }
    if (frame.flushed) settle(frame);
  }

  /** A frame is done once flushed and all its output has come out of its lane. */
  function settle(frame: Frame): void {
    if (failure || t.destroyed) return; // the lanes are gone with the stream
    if (frame.done || !frame.flushed || frame.lane.z.readableLength > 0) return;
    frame.done = true;
    advance();
  }

  /** Passes on finished frames in order, hands their lanes back, and lets the next frame's lane go on. */
  function advance(): void {
    while (order[0]?.done) {
      const frame = order.shift()!;
      const lane = frame.lane;
      lane.frame = undefined;
      // zlib's reset() (ZSTD_DCtx_reset here): Node has it, its zstd type declarations lack it.
      (lane.z as unknown as { reset(): void }).reset();
      free.push(lane);
      const next = order[0];
      if (next) {
        for (const piece of next.out) t.push(piece);
        next.out = [];
        next.outBytes = 0;
        if (next.lane.z.isPaused() && t.readableLength < t.readableHighWaterMark) next.lane.z.resume();
      }
    }
    const wake = laneFreed;
    laneFreed = undefined;
    wake?.();
    if (finish && order.length === 0) finish();
  }

  // The reader wants more: the lane of the next frame may go on.
  const read = t._read.bind(t);
  t._read = (size: number) => {
    order[0]?.lane.z.resume();
    read(size);
  };
  return t;
}
