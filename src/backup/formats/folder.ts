// The backup folder as a flat set of objects, for the formats that keep one object per snapshot (archive, legacy):
// one listing per command shared by every such format, and the small object operations they need. (A restic
// repository lives in sub-folders of the same folder and lists those itself.) A folder on this machine is reached
// with file-system calls, anything else through rclone (folder-local.ts).
import path from "node:path";
import type { RcloneBinary } from "../../rclone/binary.js";
import { type ListedFile, listFiles } from "../../rclone/listing.js";
import type { ResolvedRemote } from "../../rclone/remotes.js";
import { RcloneError, runRclone } from "../../rclone/runner.js";
import type { RemoteProbe } from "../../rclone/stall.js";
import { deleteLocalObject, listLocalObjects, localObjectSize, readLocalObject } from "./folder-local.js";

export interface FolderAccess {
  bin: RcloneBinary;
  remote: ResolvedRemote;
  /** rclone's environment (secrets stripped). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Told every rclone child's pid (a backup records them, so the next run can stop orphans of a killed one). */
  onSpawn?: (pid: number) => void;
  /**
   * Asked whether the remote still answers when an rclone call has been quiet for a while (rclone/stall.ts): a
   * server that accepts connections and never answers would otherwise hold each call for rclone's own 5-minute
   * timeouts.
   */
  stallProbe?: RemoteProbe;
}

const notFound = (res: { code: number | null; errors: string[] }) =>
  res.code === 3 || res.code === 4 || res.errors.some((e) => /not found|doesn't exist|NoSuchKey|object not found/i.test(e));

export class Folder {
  private listed?: Promise<Map<string, ListedFile>>;

  constructor(readonly access: FolderAccess) {}

  get remote(): ResolvedRemote {
    return this.access.remote;
  }

  /** The folder on this machine, when it is one (read and written without rclone). */
  private local(name: string): string | undefined {
    const dir = this.remote.localDir;
    return dir === undefined ? undefined : path.join(dir, name);
  }

  /** The folder's objects (not its sub-folders), listed once until refresh(). */
  objects(): Promise<Map<string, ListedFile>> {
    const dir = this.remote.localDir;
    if (dir !== undefined) this.listed ??= listLocalObjects(dir);
    this.listed ??= listFiles(this.access.bin, this.remote.path(""), {
      configPath: this.remote.configPath,
      env: this.access.env,
      signal: this.access.signal,
      recursive: false,
      timeoutMs: 300_000,
      stallProbe: this.access.stallProbe,
      // An object store keeps rclone's modification time in metadata: reading it costs a HEAD per object. The
      // upload time the listing carries is what the folder's users need (how old a leftover is).
      ...(this.remote.isBucketStore ? { extraArgs: ["--use-server-modtime"] } : {}),
    });
    const listed = this.listed;
    listed.catch(() => {
      if (this.listed === listed) this.listed = undefined; // a failed listing is not remembered
    });
    return listed;
  }

  /** Objects were written or deleted: the next objects() lists again. */
  refresh(): void {
    this.listed = undefined;
  }

  /** A small object's text (a manifest). */
  async read(name: string, limit: number): Promise<string> {
    const file = this.local(name);
    if (file) return readLocalObject(file, limit);
    const res = await runRclone(this.access.bin, {
      args: ["cat", this.remote.path(name)],
      configPath: this.remote.configPath,
      env: this.access.env,
      signal: this.access.signal,
      stdout: { capture: limit },
      timeoutMs: 120_000,
      stallProbe: this.access.stallProbe,
    });
    if (res.code !== 0) throw new RcloneError("cat", res);
    return res.stdout;
  }

  /** Deletes one object; an object that is already gone counts as deleted. */
  async delete(name: string): Promise<void> {
    const file = this.local(name);
    if (file) return deleteLocalObject(file);
    const res = await runRclone(this.access.bin, {
      args: ["deletefile", this.remote.path(name)],
      configPath: this.remote.configPath,
      env: this.access.env,
      signal: this.access.signal,
      timeoutMs: 300_000,
      onSpawn: this.access.onSpawn,
      stallProbe: this.access.stallProbe,
    });
    if (res.code === 0 || notFound(res)) return;
    throw new RcloneError("deletefile", res);
  }

  /** Size of one object as the remote reports it (undefined when it does not exist). */
  async size(name: string): Promise<number | undefined> {
    const file = this.local(name);
    if (file) return localObjectSize(file);
    const res = await runRclone(this.access.bin, {
      args: ["lsjson", "--stat", "--no-mimetype", this.remote.path(name)],
      configPath: this.remote.configPath,
      env: this.access.env,
      signal: this.access.signal,
      stdout: { capture: 1 << 20 },
      timeoutMs: 120_000,
      onSpawn: this.access.onSpawn,
      stallProbe: this.access.stallProbe,
    });
    if (res.code !== 0) {
      if (notFound(res)) return undefined;
      throw new RcloneError("lsjson", res);
    }
    const parsed = JSON.parse(res.stdout) as { Size?: number };
    return typeof parsed.Size === "number" ? parsed.Size : undefined;
  }
}
