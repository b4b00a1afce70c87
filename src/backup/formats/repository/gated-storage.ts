// A Storage whose writes wait for gates, so work that needs no write can start before the writes may happen:
// - `created`: a repository being created (Repository.initAhead) is used at once — its master key and config exist in
//   memory — while its key file and config are written in the background (restic's KDF calibration and the key's
//   scrypt: ~1 s). Every other write (lock, pack, index, snapshot, removal) waits until both are stored, so the remote
//   never holds repository files without the repository around them.
// - holds (hold()): a backup takes its lock while it already reads and chunks; every write but a lock file's waits for
//   the lock, so no pack is stored before the lock that keeps a prune away from it.
// Reads and listings pass straight through. A gate that fails fails the writes waiting for it with its error.
import type { ByteRange, CallOptions, FileInfo, FileType, ListableType, LoadOptions, ReadShape, StagedFile, Storage } from "./storage.js";

export class GatedStorage implements Storage {
  private readonly holds = new Set<Promise<unknown>>();

  constructor(
    private readonly inner: Storage,
    private readonly created: Promise<unknown> = Promise.resolve(),
  ) {
    created.catch(() => {}); // reported by the writes that wait for it
  }

  /** Writes other than lock files wait for `until` too, until the returned function ends the hold. */
  hold(until: Promise<unknown>): () => void {
    until.catch(() => {}); // reported by the writes that wait for it
    this.holds.add(until);
    return () => {
      this.holds.delete(until);
    };
  }

  private async ready(type: FileType): Promise<void> {
    await this.created;
    if (type !== "locks") for (const h of [...this.holds]) await h;
  }

  get location(): string {
    return this.inner.location;
  }

  get readShape(): ReadShape | undefined {
    return this.inner.readShape;
  }

  create(opts?: CallOptions): Promise<void> {
    return this.inner.create(opts);
  }

  list(type: ListableType, opts?: CallOptions): Promise<FileInfo[]> {
    return this.inner.list(type, opts);
  }

  stat(type: FileType, name: string, opts?: CallOptions): Promise<number | undefined> {
    return this.inner.stat(type, name, opts);
  }

  load(type: FileType, name: string, range?: ByteRange, opts?: LoadOptions): Promise<Buffer> {
    return this.inner.load(type, name, range, opts);
  }

  async save(type: FileType, name: string, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void> {
    await this.ready(type);
    return this.inner.save(type, name, data, opts);
  }

  async remove(type: FileType, name: string, opts?: CallOptions): Promise<void> {
    await this.ready(type);
    return this.inner.remove(type, name, opts);
  }

  /** A staged file fills (locally, or under a temporary name) at once; only its move into place waits. */
  stage(type: FileType): StagedFile | undefined {
    const staged = this.inner.stage?.(type);
    if (!staged) return undefined;
    const ready = (t: FileType) => this.ready(t);
    return {
      append: (data) => staged.append(data),
      get pending() {
        return staged.pending;
      },
      wait: (maxPending) => staged.wait(maxPending),
      async commit(t, name, opts) {
        await ready(t);
        return staged.commit(t, name, opts);
      },
      discard: () => staged.discard(),
    };
  }

  async removeStaged(opts?: CallOptions): Promise<void> {
    await this.ready("data");
    return this.inner.removeStaged?.(opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
