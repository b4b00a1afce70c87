// Small files written on a helper thread. Creating a file is the dear part of restoring one: on ext4 the creation
// alone costs 50–400 µs of kernel time (far more just after many files were deleted, when the inode allocator steps
// over recently freed inodes), and on the restore's main thread that time was taken from the reading and planning.
// Here the writer hands each small file's bytes (its own memory, moved; otherwise a copy in a batch buffer) to the
// helper thread a restore already runs (the repository decoder's: decode-pool.ts filePort), which makes the same
// system calls (small-file.ts, write-batch.ts) while the main thread goes on. A batch leaves when it is full or when
// the main thread's turn ends; the bytes queued and in flight are bounded, so memory stays put. When the thread is
// behind (it decodes too), the main thread writes the next batch itself. Without such a thread files are written on
// the calling thread: slower on this disk, never different.
import { isMarkedAsUntransferable } from "node:worker_threads";
import { claimHandedOver } from "../../util/release-buffer.js";
import { TransferPool } from "../../util/transfer-pool.js";
import { writeSmallFile, type SmallFile } from "./small-file.js";
import { isBatchAnswer, writeBatch, type Batch, type BatchAnswer, type BatchFile } from "./write-batch.js";
import type { HelperPort } from "../../util/helper-port.js";

export interface SmallFileWriter {
  /**
   * Writes one file; settles when it is on disk, or with the failing system call's error (code and syscall set).
   * `data` is copied, written or — when its producer handed it over (util/release-buffer.ts) — taken over before
   * this returns: the caller may free it at once.
   */
  write(file: SmallFile, data: Uint8Array): Promise<void>;
  /** undefined when there is room for more; otherwise settles once the bytes queued and in flight fall below the bound. */
  room(): Promise<void> | undefined;
  /** Sends what is queued, waits until every file has settled, and ends the thread. Never throws. */
  close(): Promise<void>;
  /** Whether files go to a thread (false: written by the caller's thread). */
  readonly threaded: boolean;
}

/** A batch leaves at this many bytes or files (one message each way). */
const BATCH_BYTES = 256 << 10;
const BATCH_FILES = 64;
/** Bytes queued and in flight at most before room() makes the writer wait. */
const IN_FLIGHT_BYTES = 1 << 20;
/**
 * Batches on their way to the thread at most; a batch beyond them is written by the calling thread. The helper is the
 * repository decoder's thread, which also decodes every blob: through a tree of small files it is the busier of the
 * two (measured on 1 GiB: ~85% against the main thread's ~45%), so once it is two batches behind the main thread takes
 * a share of the writing. 1 GiB restore, alternating rounds: tmpfs 4.9–5.1 s against 5.4–6.3 s, disk 6.0–9.9 s
 * against 8.2–10.5 s, same peak RSS (docs/performance.md).
 */
const THREAD_BEHIND = 2;

/** Writes on the calling thread (the fallback; also a dry run's choice, which writes nothing). */
export function inlineWriter(): SmallFileWriter {
  return {
    threaded: false,
    write(file, data) {
      try {
        writeSmallFile(file, data);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    room: () => undefined,
    close: async () => {},
  };
}

/**
 * A writer on `port`, a helper thread that already runs (the repository decoder's), else on the calling thread (also
 * with WORKSPACE_SYNC_WRITE_INLINE=1). No thread is started for it: each costs ~20 MiB, which would take an archive
 * restore past its memory bound (measured: 146–156 MiB at 1 GiB, against 133).
 */
export function smallFileWriter(opts: { port?: HelperPort | undefined } = {}): SmallFileWriter {
  if (!opts.port) return inlineWriter();
  if (process.env.WORKSPACE_SYNC_WRITE_INLINE) {
    void opts.port.end(); // not used: the thread may end
    return inlineWriter();
  }
  return new ThreadWriter(opts.port);
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Filling {
  buf: ArrayBuffer;
  used: number;
  /** Files' own memory, moved with the batch. */
  parts: ArrayBuffer[];
  /** Bytes of the batch (copied and moved). */
  bytes: number;
  files: BatchFile[];
  waiters: Waiter[];
}

class ThreadWriter implements SmallFileWriter {
  readonly threaded = true;
  private filling: Filling | undefined;
  private readonly sent = new Map<number, { waiters: Waiter[]; bytes: number }>();
  private nextId = 0;
  private queuedBytes = 0;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Why the thread is gone (later batches are written on this thread). */
  private broken: Error | undefined;
  private closing = false;
  private readonly buffers = new TransferPool(IN_FLIGHT_BYTES + BATCH_BYTES, 8);

  constructor(private readonly port: HelperPort) {
    port.listen(
      (m) => isBatchAnswer(m) && this.answered(m),
      (err) => this.stop(err),
    );
  }

  write(file: SmallFile, data: Uint8Array): Promise<void> {
    // Memory Node will not move (its pool of small buffers) is copied like any other.
    const own = data.buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(data.buffer) && claimHandedOver(data) ? data.buffer : undefined;
    let f = this.filling;
    if (f && ((!own && f.used + data.length > f.buf.byteLength) || f.bytes >= BATCH_BYTES || f.files.length >= BATCH_FILES)) {
      this.send();
      f = undefined;
    }
    if (!f) {
      f = this.filling = { buf: this.buffers.take(Math.max(BATCH_BYTES, own ? 0 : data.length)), used: 0, parts: [], bytes: 0, files: [], waiters: [] };
      setImmediate(() => this.send()); // the end of this turn: what one turn queued leaves together
    }
    if (own) {
      f.files.push({ ...file, part: f.parts.length, offset: data.byteOffset, length: data.length });
      f.parts.push(own);
    } else {
      new Uint8Array(f.buf, f.used, data.length).set(data);
      f.files.push({ ...file, offset: f.used, length: data.length });
      f.used += data.length;
    }
    f.bytes += data.length;
    this.queuedBytes += data.length;
    const filling = f;
    return new Promise<void>((resolve, reject) => filling.waiters.push({ resolve, reject }));
  }

  room(): Promise<void> | undefined {
    if (this.queuedBytes < IN_FLIGHT_BYTES) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.send();
    while (this.sent.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.closing = true;
    await this.port.end();
    this.buffers.clear();
  }

  private send(): void {
    const f = this.filling;
    if (!f) return;
    this.filling = undefined;
    if (this.broken || this.sent.size >= THREAD_BEHIND) return this.writeHere(f);
    const id = this.nextId++;
    this.sent.set(id, { waiters: f.waiters, bytes: f.bytes });
    if (this.sent.size === 1) this.port.busy(true);
    const batch = batchOf(id, f);
    try {
      this.port.post(batch, [f.buf, ...f.parts]);
    } catch {
      // Not sendable (nothing moved): written here instead.
      this.sent.delete(id);
      if (this.sent.size === 0) this.port.busy(false);
      this.writeHere(f);
    }
  }

  private answered(answer: BatchAnswer): void {
    const s = this.sent.get(answer.id);
    if (!s) return;
    this.sent.delete(answer.id);
    this.buffers.give(answer.data);
    const failed = new Map(answer.failures.map((f) => [f.index, f]));
    s.waiters.forEach((w, i) => {
      const f = failed.get(i);
      if (f) w.reject(Object.assign(new Error(f.message), { code: f.code, syscall: f.syscall }));
      else w.resolve();
    });
    this.settled(s.bytes);
  }

  private settled(bytes: number): void {
    this.queuedBytes -= bytes;
    if (this.sent.size === 0) {
      if (!this.closing) this.port.busy(false);
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
    if (this.queuedBytes < IN_FLIGHT_BYTES) for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /** The thread is gone: what it held fails (the restore stops; its staging folder is discarded), later files are written here. */
  private stop(err: Error): void {
    if (this.closing) return;
    this.broken ??= err;
    for (const [id, s] of this.sent) {
      this.sent.delete(id);
      for (const w of s.waiters) w.reject(err);
      this.settled(s.bytes);
    }
  }

  /**
   * A batch written on this thread (the thread is behind, or gone) by the code the thread runs, answered the same way:
   * the same per-file failures, its parts freed and its buffer pooled at once.
   */
  private writeHere(f: Filling): void {
    const id = this.nextId++;
    this.sent.set(id, { waiters: f.waiters, bytes: f.bytes });
    this.answered(writeBatch(batchOf(id, f)));
  }
}

const batchOf = (id: number, f: Filling): Batch => ({ kind: "files", id, files: f.files, data: f.buf, parts: f.parts });
