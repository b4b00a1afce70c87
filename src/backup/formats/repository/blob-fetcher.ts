// Reads blobs ahead of the one consumer that takes them in order (a restore streams files in tree order), the way
// restic's restorer reads packs: blobs queued close together in one pack are fetched with ONE ranged read, several
// reads are in flight through the transport, and memory stays bounded — only blobs within `aheadBytes` of the
// consumer's position are fetched; what is beyond waits until the consumer releases what it took.
//
// - The queue is in consumption order. `push(…, after)` inserts right after another ticket, so a tree walk can keep
//   the queue in exact depth-first order as subtrees become known.
// - The same blob queued twice while the first is still held is fetched once (a file repeated in the workspace).
// - A ticket the consumer waits for is fetched at once, whatever the budget (no deadlock on a full window).
// - Each blob is verified when taken (MAC, zstd, SHA-256 = its ID); a copy that fails is retried from the index's
//   other copies, then the error names the blob and its pack.
import type { CryptoKey } from "./crypto.js";
import { IntegrityError } from "./errors.js";
import type { Id } from "./ids.js";
import type { BlobLocation, MasterIndex } from "./index.js";
import { releaseDecompressContext } from "./compress.js";
import { type BlobType, decodeBlob } from "./pack.js";
import type { CallOptions, Storage } from "./storage.js";
import type { BlobDecoder } from "./decode-pool.js";
import { handOver, releaseBuffer } from "../../../util/release-buffer.js";

export interface FetcherOptions {
  /** Stored bytes fetched ahead of the consumer (default 32 MiB). */
  aheadBytes?: number;
  /** Ranged reads in flight (default 4). */
  reads?: number;
  /** Blobs of one pack at most this far apart are read with one request, the bytes between them read too (default 256 KiB). */
  gapBytes?: number;
  /** Largest single read (default 8 MiB; a bigger blob is read alone). */
  maxReadBytes?: number;
  /**
   * The window is filled up again once it has drained to this share of `aheadBytes` (default 0.5): lower admits blobs
   * in larger batches (reads that bring more neighbours along, for a transport whose requests are costly), higher
   * keeps a decoder that works ahead supplied through large blobs (one taken blob frees room for the next read).
   */
  refillAt?: number;
  signal?: AbortSignal;
  /** Stored bytes read from the repository (each completed read). */
  onRead?: (bytes: number) => void;
  /** Decodes each read's blobs as soon as it arrives (on a worker thread); without it, blobs are decoded when taken. */
  decoder?: BlobDecoder;
}

export interface Ticket {
  readonly type: BlobType;
  readonly id: Id;
  /** Plaintext size from the index (undefined when the blob is not indexed). */
  readonly size: number | undefined;
  /** The verified plaintext. Call at most once; then release(). */
  take(): Promise<Buffer>;
  /** The consumer is done with it (taken or skipped): its memory may go and the window moves on. */
  release(): void;
}

type State = "queued" | "reading" | "ready" | "failed";

interface Slot {
  key: string;
  type: BlobType;
  id: Id;
  loc: BlobLocation | undefined;
  refs: number;
  state: State;
  sealed?: Buffer;
  /** The decoder's answer, when a decoder decodes ahead. */
  decoded?: Promise<Buffer>;
  /** Decoded plaintext, kept only while another ticket still shares the slot. */
  plain?: Buffer;
  /** The read `sealed` is a view of, shared with the other blobs of that read. */
  read?: SharedRead;
  error?: Error;
  waiters: (() => void)[];
  /** Someone waits for it: fetch regardless of the window. */
  demanded: boolean;
  /** Within the read-ahead window (counted in windowBytes). */
  admitted: boolean;
  prev?: Slot;
  next?: Slot;
}

/** One read's buffer and how many blobs still hold a view of it: freed at once when the last one is decoded. */
interface SharedRead {
  buf: Buffer;
  holders: number;
}

/** Lets go of a blob's stored bytes (decoded or no longer wanted); the last view of a read frees the read's memory. */
function dropSealed(slot: Slot): void {
  slot.sealed = undefined;
  const read = slot.read;
  slot.read = undefined;
  if (read && --read.holders === 0) releaseBuffer(read.buf);
}

/**
 * The blob's stored bytes have arrived in `read` (which starts at the pack offset `readOffset`): a view of it when the
 * read has no gaps (`shared` counts the views), else a copy. Marks the slot ready and wakes its waiters.
 */
function settle(slot: Slot, read: Buffer, readOffset: number, shared: SharedRead | undefined): void {
  const at = slot.loc!.offset - readOffset;
  const view = read.subarray(at, at + slot.loc!.length);
  slot.state = "ready";
  // A read with gaps is copied out of: a view would keep the gap bytes alive while any blob of it is held.
  slot.sealed = shared ? view : Buffer.from(view);
  if (shared) {
    slot.read = shared;
    shared.holders++;
  }
  for (const w of slot.waiters.splice(0)) w();
}

/** Largest piece a read is taken in that holds several blobs (a larger blob is a piece of its own). */
const PIECE_BYTES = 1 << 20;

/** How a read of `slots` (in pack order, from `offset`) is split: runs of blobs up to PIECE_BYTES, gaps skipped. */
export function pieceLayout<T extends { loc?: Pick<BlobLocation, "offset" | "length"> }>(slots: readonly T[], offset: number): { lengths: number[]; skip: boolean[]; offsets: number[]; blobs: T[][] } {
  const out = { lengths: [] as number[], skip: [] as boolean[], offsets: [] as number[], blobs: [] as T[][] };
  let at = offset;
  let run: T[] = [];
  let runStart = offset;
  const close = () => {
    if (!run.length) return;
    out.lengths.push(at - runStart);
    out.skip.push(false);
    out.offsets.push(runStart);
    out.blobs.push(run);
    run = [];
  };
  for (const s of slots) {
    const loc = s.loc!;
    if (loc.offset > at) {
      close();
      out.lengths.push(loc.offset - at);
      out.skip.push(true);
      out.offsets.push(at);
      out.blobs.push([]);
      at = loc.offset;
    }
    if (run.length && at + loc.length - runStart > PIECE_BYTES) close();
    if (!run.length) runStart = at;
    run.push(s);
    at = loc.offset + loc.length;
  }
  close();
  return out;
}

export interface BlobSource {
  /** Where the packs are read (a repository's storage, or one that serves some packs from elsewhere first). */
  storage: Pick<Storage, "load">;
  key: CryptoKey;
  index: MasterIndex;
}

export class BlobFetcher {
  private head?: Slot;
  private tail?: Slot;
  /** The first slot in queue order not admitted to the window yet. */
  private cursor?: Slot;
  /** Stored bytes of the admitted slots. */
  private windowBytes = 0;
  /** Admitted slots still queued, in admission order (stale entries are skipped when met). */
  private readonly admittedQueue: Slot[] = [];
  private admittedAt = 0;
  /** Admitted queued slots per pack: what one read of that pack can bring along. */
  private readonly byPack = new Map<Id, Set<Slot>>();
  private readonly demandedQueue: Slot[] = [];
  private readonly live = new Map<string, Slot>();
  private inFlight = 0;
  private readonly aheadBytes: number;
  private readonly maxReads: number;
  private readonly gapBytes: number;
  private readonly maxReadBytes: number;
  private readonly refillAt: number;
  private stopped?: Error;
  private pumping = false;
  private scheduled = false;
  /** The window is being filled up (from half empty to full). */
  private refilling = true;
  private readonly onAbort = () => this.stop(this.opts.signal?.reason instanceof Error ? this.opts.signal.reason : new Error("the read was cancelled"));
  /** Reads issued and stored bytes read (for tests and figures). */
  readonly stats = { reads: 0, bytes: 0 };

  constructor(
    private readonly source: BlobSource,
    private readonly opts: FetcherOptions = {},
  ) {
    this.aheadBytes = opts.aheadBytes ?? 32 << 20;
    this.maxReads = Math.max(1, opts.reads ?? 4);
    this.gapBytes = opts.gapBytes ?? 256 << 10;
    this.maxReadBytes = opts.maxReadBytes ?? 8 << 20;
    this.refillAt = Math.min(1, Math.max(0, opts.refillAt ?? 0.5));
    opts.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Queues a blob (at the end, or right after `after` while that one is still queued) and returns its ticket. */
  push(type: BlobType, id: Id, after?: Ticket): Ticket {
    const key = `${type}:${id}`;
    let slot = this.live.get(key);
    if (slot) slot.refs++;
    else {
      const copies = this.source.index.lookup(type, id);
      slot = { key, type, id, loc: copies[0], refs: 1, state: "queued", waiters: [], demanded: false, admitted: false };
      if (!slot.loc) {
        slot.state = "failed";
        slot.error = new IntegrityError(`${type} blob ${id} is not in the repository's index (the repository is incomplete or damaged)`, "index/");
      }
      this.live.set(key, slot);
      const anchor = after ? this.live.get(`${after.type}:${after.id}`) : undefined;
      this.insert(slot, anchor);
      this.schedule();
    }
    return this.ticket(slot);
  }

  private ticket(slot: Slot): Ticket {
    let released = false;
    return {
      type: slot.type,
      id: slot.id,
      size: slot.loc ? slot.loc.uncompressedLength || slot.loc.length - 32 : undefined,
      take: () => this.take(slot),
      release: () => {
        if (released) return;
        released = true;
        this.release(slot);
      },
    };
  }

  private insert(slot: Slot, after: Slot | undefined): void {
    if (after && after.refs > 0) {
      slot.prev = after;
      slot.next = after.next;
      if (after.next) after.next.prev = slot;
      else this.tail = slot;
      after.next = slot;
      // Behind the window's edge: part of the window at once (it is needed before what follows it).
      // (Behind an unadmitted anchor it stays unadmitted: the cursor is at or before the anchor.)
      if (after.admitted) this.admit(slot);
    } else {
      slot.prev = this.tail;
      if (this.tail) this.tail.next = slot;
      else this.head = slot;
      this.tail = slot;
      this.cursor ??= slot;
    }
    this.fill();
  }

  /**
   * Moves the window's edge forward once it has drained to `refillAt`, then up to the full window: blobs are admitted in
   * batches, so the reads that bring them can span many neighbours (one blob at a time would mean one request each).
   */
  private fill(): void {
    if (!this.refilling && this.windowBytes <= this.aheadBytes * this.refillAt) this.refilling = true;
    if (!this.refilling) return;
    while (this.cursor && this.windowBytes < this.aheadBytes) {
      const s = this.cursor;
      this.cursor = s.next;
      while (this.cursor?.admitted) this.cursor = this.cursor.next;
      this.admit(s);
    }
    if (this.windowBytes >= this.aheadBytes) this.refilling = false;
  }

  private admit(slot: Slot): void {
    if (slot.admitted) return;
    slot.admitted = true;
    this.windowBytes += slot.loc?.length ?? 0;
    if (slot.state !== "queued") return;
    this.admittedQueue.push(slot);
    const packId = slot.loc!.packId;
    let set = this.byPack.get(packId);
    if (!set) this.byPack.set(packId, (set = new Set()));
    set.add(slot);
  }

  private unqueue(slot: Slot): void {
    if (!slot.admitted || !slot.loc) return;
    const set = this.byPack.get(slot.loc.packId);
    if (set?.delete(slot) && set.size === 0) this.byPack.delete(slot.loc.packId);
  }

  private unlink(slot: Slot): void {
    if (this.cursor === slot) {
      this.cursor = slot.next;
      while (this.cursor?.admitted) this.cursor = this.cursor.next;
    }
    if (slot.prev) slot.prev.next = slot.next;
    else this.head = slot.next;
    if (slot.next) slot.next.prev = slot.prev;
    else this.tail = slot.prev;
    slot.prev = slot.next = undefined;
  }

  private async take(slot: Slot): Promise<Buffer> {
    if (slot.plain) return slot.plain;
    if (slot.state === "queued" || slot.state === "reading") {
      if (slot.state === "queued" && !slot.demanded) {
        slot.demanded = true;
        this.demandedQueue.push(slot);
      }
      this.pump();
      // A transport may hand a read's first pieces out while the read starts (LoadOptions.pieces): the slot can be ready now.
      if (slot.state === "queued" || slot.state === "reading") await new Promise<void>((resolve) => slot.waiters.push(resolve));
    }
    if (slot.plain) return slot.plain;
    if (slot.state === "ready" && !slot.sealed && !slot.decoded && slot.loc && !this.stopped) {
      // Taken already by a ticket that was alone then (its bytes let go), and pushed again before that ticket was
      // released (the same content in a file planned meanwhile): read it once more.
      const again = await this.readAlone(slot.loc).catch((err: Error) => this.otherCopy(slot, err));
      return this.handOut(slot, again);
    }
    if (slot.state === "failed" || (!slot.sealed && !slot.decoded) || !slot.loc) throw slot.error ?? this.stopped ?? new Error(`blob ${slot.id} could not be read`);
    let plain: Buffer;
    try {
      plain = slot.decoded ? await slot.decoded : decodeBlob(this.source.key, slot.loc, slot.sealed!, slot.loc.packId);
    } catch (err) {
      // The decoder itself failed (not the blob): read it again and decode it here.
      if (slot.decoded && !(err instanceof IntegrityError) && !this.stopped) plain = await this.readAlone(slot.loc);
      else plain = await this.otherCopy(slot, err as Error);
    }
    dropSealed(slot);
    slot.decoded = undefined;
    return this.handOut(slot, plain);
  }

  /**
   * Kept for the other tickets of a shared slot; else it is this ticket's alone (a blob queued again later is read
   * again), so its taker may free it once written (release-buffer.ts handOver: decoded blobs have memory of their own).
   */
  private handOut(slot: Slot, plain: Buffer): Buffer {
    if (slot.refs > 1) slot.plain = plain;
    else handOver(plain);
    return plain;
  }

  private async readAlone(loc: BlobLocation): Promise<Buffer> {
    const sealed = await this.source.storage.load("data", loc.packId, { offset: loc.offset, length: loc.length }, this.callOpts());
    return decodeBlob(this.source.key, loc, sealed, loc.packId);
  }

  /** The chosen copy failed verification: the index's other copies, each read alone; else the first error. */
  private async otherCopy(slot: Slot, first: Error): Promise<Buffer> {
    for (const loc of this.source.index.lookup(slot.type, slot.id).slice(1)) {
      try {
        const sealed = await this.source.storage.load("data", loc.packId, { offset: loc.offset, length: loc.length }, this.callOpts());
        return decodeBlob(this.source.key, loc, sealed, loc.packId);
      } catch {
        // try the next copy; the first error is the one reported
      }
    }
    throw first;
  }

  private release(slot: Slot): void {
    if (--slot.refs > 0) return;
    this.live.delete(slot.key);
    this.unlink(slot);
    if (slot.admitted) this.windowBytes -= slot.loc?.length ?? 0;
    if (slot.state === "queued") {
      this.unqueue(slot);
      slot.state = "failed"; // never read now; stale queue entries skip it
    }
    dropSealed(slot);
    slot.plain = undefined;
    slot.decoded = undefined;
    this.fill();
    this.schedule();
  }

  /** A pump after the current turn: what is pushed or released together is read together. */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private callOpts(): CallOptions {
    return this.opts.signal ? { signal: this.opts.signal } : {};
  }

  /** Starts reads while there is room: demanded slots first, then queued ones within the window, in queue order. */
  private pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      while (this.inFlight < this.maxReads) {
        const picked = this.pick();
        if (!picked) break;
        this.startRead(picked);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The next slot to read and the queued slots of its pack that one read should bring along. */
  private pick(): Slot[] | undefined {
    let lead: Slot | undefined;
    while (this.demandedQueue.length && !lead) {
      const s = this.demandedQueue.shift()!;
      if (s.state === "queued" && s.refs > 0) lead = s;
    }
    while (!lead && this.admittedAt < this.admittedQueue.length) {
      const s = this.admittedQueue[this.admittedAt++]!;
      if (s.state === "queued" && s.refs > 0) lead = s;
    }
    if (this.admittedAt > 1024 && this.admittedAt * 2 > this.admittedQueue.length) {
      this.admittedQueue.splice(0, this.admittedAt);
      this.admittedAt = 0;
    }
    if (!lead) return undefined;
    const group = [...(this.byPack.get(lead.loc!.packId) ?? [])];
    if (!group.includes(lead)) group.push(lead);
    group.sort((a, b) => a.loc!.offset - b.loc!.offset);
    // The run of blobs around the lead whose gaps are small and whose span fits one read.
    let lo = group.indexOf(lead);
    let hi = lo;
    const span = (a: number, b: number) => group[b]!.loc!.offset + group[b]!.loc!.length - group[a]!.loc!.offset;
    const near = (a: Slot, b: Slot) => b.loc!.offset - (a.loc!.offset + a.loc!.length) <= this.gapBytes && b.loc!.offset >= a.loc!.offset + a.loc!.length;
    for (;;) {
      let grown = false;
      if (hi + 1 < group.length && near(group[hi]!, group[hi + 1]!) && span(lo, hi + 1) <= this.maxReadBytes) {
        hi++;
        grown = true;
      }
      if (lo > 0 && near(group[lo - 1]!, group[lo]!) && span(lo - 1, hi) <= this.maxReadBytes) {
        lo--;
        grown = true;
      }
      if (!grown) break;
    }
    const picked = group.slice(lo, hi + 1);
    for (const s of picked) this.unqueue(s);
    return picked;
  }

  private startRead(slots: Slot[]): void {
    const packId = slots[0]!.loc!.packId;
    const offset = slots[0]!.loc!.offset;
    const end = slots[slots.length - 1]!.loc!.offset + slots[slots.length - 1]!.loc!.length;
    for (const s of slots) s.state = "reading";
    const gapless = slots.reduce((n, s) => n + s.loc!.length, 0) === end - offset;
    this.inFlight++;
    this.stats.reads++;
    // A transport that can hands the read out piece by piece (a few blobs or one large blob each, gaps dropped): each
    // piece's blobs are ready as soon as it is in, and its memory goes once they are decoded, not at the read's end.
    const layout = pieceLayout(slots, offset);
    let nextPiece = 0;
    const onPiece = (i: number, piece: Buffer | undefined) => {
      if (i !== nextPiece || this.stopped) {
        // A retry brings the pieces already handed out once more.
        if (piece) releaseBuffer(piece);
        return;
      }
      nextPiece++;
      this.stats.bytes += layout.lengths[i]!;
      this.opts.onRead?.(layout.lengths[i]!);
      if (piece) this.arrived(packId, piece, layout.offsets[i]!, layout.blobs[i]!);
    };
    const done = (err?: Error, buf?: Buffer) => {
      this.inFlight--;
      const whole = !err && buf && buf.length === end - offset;
      if (buf && buf.length > 0) {
        this.stats.bytes += buf.length;
        this.opts.onRead?.(buf.length);
      }
      if (whole) this.arrived(packId, buf!, offset, slots, gapless);
      else if (buf) releaseBuffer(buf);
      for (const s of slots) {
        if (s.state !== "reading") continue;
        s.state = "failed";
        s.error = err ?? new IntegrityError(`pack ${packId} is shorter than its index says (read ${nextPiece ? layout.offsets[nextPiece - 1]! + layout.lengths[nextPiece - 1]! - offset : (buf?.length ?? 0)} of ${end - offset} bytes at ${offset})`, `data/${packId.slice(0, 2)}/${packId}`);
        for (const w of s.waiters.splice(0)) w();
      }
      this.pump();
    };
    this.source.storage.load("data", packId, { offset, length: end - offset }, { ...this.callOpts(), pieces: { ...layout, onPiece } }).then(
      (buf) => done(undefined, buf),
      (err: Error) => done(err),
    );
  }

  /**
   * Stored bytes of `slots` (in pack order) have arrived in `buf`, which starts at the pack offset `at` and is ours
   * alone: decoded on the decoder's thread, or kept for the taker (views of it when it has no gaps, freed with the last
   * one; else copies, and the buffer freed now).
   */
  private arrived(packId: Id, buf: Buffer, at: number, slots: readonly Slot[], gapless = true): void {
    const reading = slots.filter((x) => x.state === "reading" && x.refs > 0);
    if (this.opts.decoder && reading.length > 0) {
      // Decoded right away on the decoder's thread; the bytes are handed over (not kept here).
      const answers = this.opts.decoder.decode(packId, buf, at, reading.map((x) => x.loc!));
      reading.forEach((x, i) => {
        x.state = "ready";
        x.decoded = answers[i]!;
        x.decoded.catch(() => {}); // handled when taken
        for (const w of x.waiters.splice(0)) w();
      });
    } else {
      const shared: SharedRead | undefined = gapless ? { buf, holders: 0 } : undefined;
      for (const s of reading) settle(s, buf, at, shared);
      if (!shared || shared.holders === 0) releaseBuffer(buf);
    }
    // Released while it was read: never handed out.
    for (const s of slots) if (s.state === "reading" && s.refs === 0) s.state = "failed";
    this.pump();
  }

  /** Fails everything still waiting (an abort, or the consumer gave up). */
  stop(reason: Error): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.opts.signal?.removeEventListener("abort", this.onAbort);
    for (const s of this.live.values()) {
      if (s.state === "queued" || s.state === "reading") {
        s.state = "failed";
        s.error = reason;
      }
      for (const w of s.waiters.splice(0)) w();
    }
  }

  /** Stops fetching (nothing more will be taken). */
  close(): void {
    this.stop(new Error("the reader was closed"));
    releaseDecompressContext(); // the zstd context kept between blobs (another reader simply makes a new one)
  }

  /** Blobs queued and not yet released (tests). */
  get queued(): number {
    return this.live.size;
  }
}
