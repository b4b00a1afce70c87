// A Storage that starts its transport on demand and closes it once idle: the rclone `serve restic` child of a
// repository lives only while requests are made. A CLI command then ends without an explicit close (no child keeps the
// process alive), and a long-running gateway holds no idle rclone. The next request starts a new transport.
import type { ByteRange, CallOptions, FileInfo, FileType, ListableType, LoadOptions, ReadShape, StagedFile, Storage } from "./storage.js";

export class IdleClosingStorage implements Storage {
  private current: Storage | undefined;
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> = Promise.resolve();
  private readonly idleMs: number;
  readonly readShape?: ReadShape;

  constructor(
    private readonly make: () => Storage,
    readonly location: string,
    opts: {
      /** How long the transport may sit idle before it is closed (default 250 ms). */
      idleMs?: number;
      /** The transport's read shape (known before the transport is started). */
      readShape?: ReadShape;
    } = {},
  ) {
    this.idleMs = opts.idleMs ?? 250;
    if (opts.readShape) this.readShape = opts.readShape;
  }

  private async run<T>(fn: (s: Storage) => Promise<T>): Promise<T> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.active++;
    try {
      await this.closing;
      this.current ??= this.make();
      return await fn(this.current);
    } finally {
      if (--this.active === 0) {
        this.timer = setTimeout(() => void this.closeIdle(), this.idleMs);
        this.timer.unref();
      }
    }
  }

  /**
   * Keeps the transport open until the returned function is called (a backup: packs are uploaded seconds apart, and
   * a restart of rclone between two of them costs more than the idle child).
   */
  hold(): () => void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.active++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.active === 0) {
        this.timer = setTimeout(() => void this.closeIdle(), this.idleMs);
        this.timer.unref();
      }
    };
  }

  private closeIdle(): void {
    this.timer = undefined;
    if (this.active > 0 || !this.current) return;
    const s = this.current;
    this.current = undefined;
    this.closing = s.close().catch(() => {});
  }

  create(opts?: CallOptions): Promise<void> {
    return this.run((s) => s.create(opts));
  }
  list(type: ListableType, opts?: CallOptions): Promise<FileInfo[]> {
    return this.run((s) => s.list(type, opts));
  }
  stat(type: FileType, name: string, opts?: CallOptions): Promise<number | undefined> {
    return this.run((s) => s.stat(type, name, opts));
  }
  load(type: FileType, name: string, range?: ByteRange, opts?: LoadOptions): Promise<Buffer> {
    return this.run((s) => s.load(type, name, range, opts));
  }
  save(type: FileType, name: string, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void> {
    return this.run((s) => s.save(type, name, data, opts));
  }
  remove(type: FileType, name: string, opts?: CallOptions): Promise<void> {
    return this.run((s) => s.remove(type, name, opts));
  }

  /**
   * A staged file of the current transport, which stays open until the file is committed or discarded (an rclone
   * remote uploads the file on commit, through the very session that staged it).
   */
  stage(type: FileType): StagedFile | undefined {
    const release = this.hold();
    this.current ??= this.make();
    const inner = this.current.stage?.(type);
    if (!inner) {
      release();
      return undefined;
    }
    return {
      append: (data) => inner.append(data),
      get pending() {
        return inner.pending;
      },
      wait: (maxPending) => inner.wait(maxPending),
      commit: (t, name, opts) => inner.commit(t, name, opts).finally(release),
      discard: () => inner.discard().finally(release),
    };
  }

  removeStaged(opts?: CallOptions): Promise<void> {
    return this.run(async (s) => await s.removeStaged?.(opts));
  }

  /** Starts the transport (hold() first, or it is closed again once idle). */
  warm(): void {
    void this.run(async (s) => s.warm?.()).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.current;
    this.current = undefined;
    await this.closing;
    await s?.close();
  }
}
