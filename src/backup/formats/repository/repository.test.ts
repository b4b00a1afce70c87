import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { BackendError, NotARepositoryError } from "./errors.js";
import { hashId } from "./ids.js";
import { walkTrees } from "./reader.js";
import { Repository, type RepositoryOptions } from "./repository.js";
import { addKey } from "./key.js";
import { newRandomKey } from "./crypto.js";
import type { FileType } from "./storage.js";

const stagedFiles = async (root: string) => (await readdir(path.join(root, "data"))).filter((n) => n.endsWith(".tmp"));

const KDF = { N: 1024, r: 8, p: 1 };
const tmp = (p: string) => mkdtemp(path.join(os.tmpdir(), `repo-${p}-`));

/**
 * A local folder that records the order of writes and how many run at once, and can be made to fail. It does not stage
 * (as an rclone transport): every pack goes through save(). `staging` turns the local folder's staged packs back on.
 */
class RecordingStorage extends DirStorage {
  log: string[] = [];
  active = 0;
  maxActive = 0;
  failData = false;
  staging = false;
  override stage(type: FileType) {
    return this.staging ? super.stage(type) : undefined;
  }
  override async save(type: FileType, name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (type === "data" && this.failData) throw new BackendError("disk on fire", false);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await new Promise((r) => setTimeout(r, 5));
      await super.save(type, name, data);
      this.log.push(type);
    } finally {
      this.active--;
    }
  }
}

async function fresh(opts: RepositoryOptions = {}) {
  const storage = new RecordingStorage(await tmp("r"));
  const repo = await Repository.init(storage, "pw", { kdf: KDF, ...opts });
  storage.log = [];
  return { storage, repo };
}

describe("Repository", () => {
  it("refuses to init over an existing repository and to open a folder without one", async () => {
    const { storage } = await fresh();
    await expect(Repository.init(storage, "pw", { kdf: KDF })).rejects.toThrow(/already exists/);
    await expect(Repository.open(new DirStorage(await tmp("empty")), "pw")).rejects.toBeInstanceOf(NotARepositoryError);
  });

  it("initAhead: usable at once; key file and config stored first, the lock next, packs and index after it", async () => {
    const root = await tmp("ahead");
    const storage = new RecordingStorage(root);
    // Parameters slow enough (~50 ms) that the blobs below are saved while the key is still being derived.
    const repo = await Repository.initAhead(storage, "pw", { kdf: { N: 16384, r: 8, p: 1 }, packSize: 256 * 1024 });
    expect(storage.log).toEqual([]);
    expect(repo.keyId).toBe("");
    const locking = repo.lock({ exclusive: false, confirmLater: true });
    const endHold = repo.holdWrites(locking);
    const blobs = Array.from({ length: 12 }, () => randomBytes(50_000));
    for (const b of blobs) await repo.saveBlob("data", b);
    const lock = await locking;
    await lock.confirmed;
    await repo.flush();
    endHold();
    await lock.release();
    await repo.created;
    expect(storage.log.slice(0, 3)).toEqual(["keys", "config", "locks"]);
    expect(storage.log.filter((t) => t === "data").length).toBeGreaterThanOrEqual(2);
    expect(storage.log.at(-1)).toBe("index");
    expect(repo.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(await readdir(path.join(root, "keys"))).toEqual([repo.keyId]);
    // An ordinary repository from then on: it opens with the password and holds every blob.
    const again = await Repository.open(new DirStorage(root), "pw");
    expect(again.config.id).toBe(repo.config.id);
    await again.loadIndex();
    expect(Buffer.compare(await again.loadBlob("data", hashId(blobs[7]!)), blobs[7]!)).toBe(0);
    await repo.close();
  });

  it("init: key files an interrupted init left in an otherwise empty folder are removed; beside data they are kept", async () => {
    const root = await tmp("orphan-key");
    const storage = new DirStorage(root);
    await storage.create();
    const orphan = await addKey(storage, "pw", newRandomKey(), { params: KDF });
    const repo = await Repository.init(storage, "pw", { kdf: KDF });
    expect(await readdir(path.join(root, "keys"))).toEqual([repo.keyId]);
    expect(repo.keyId).not.toBe(orphan);

    // A folder whose config is gone but whose packs are there: its keys are that data's only way to its master key.
    const damaged = await tmp("no-config");
    const first = await Repository.init(new DirStorage(damaged), "pw", { kdf: KDF });
    await first.saveBlob("data", randomBytes(1000));
    await first.flush();
    await first.close();
    await rm(path.join(damaged, "config"));
    const again = await Repository.init(new DirStorage(damaged), "pw", { kdf: KDF });
    expect((await readdir(path.join(damaged, "keys"))).sort()).toEqual([first.keyId, again.keyId].sort());
  });

  it("initAhead: a key that cannot be made fails every write with that error and stores nothing", async () => {
    const root = await tmp("ahead-fail");
    const storage = new RecordingStorage(root);
    const repo = await Repository.initAhead(storage, "pw", { kdf: { N: 1000, r: 8, p: 1 } });
    await expect(repo.created).rejects.toThrow(/power of two/);
    await expect(repo.lock({ exclusive: false })).rejects.toThrow(/power of two/);
    await repo.saveBlob("data", randomBytes(1000)).catch(() => {});
    await expect(repo.flush()).rejects.toThrow(/power of two/);
    await repo.close();
    expect(storage.log).toEqual([]);
    await expect(Repository.open(new DirStorage(root), "pw")).rejects.toBeInstanceOf(NotARepositoryError);
  });

  it("keeps data and tree blobs in separate packs, closes packs at the target size, bounds uploads in flight", async () => {
    const { storage, repo } = await fresh({ packSize: 256 * 1024, uploads: 2 });
    for (let i = 0; i < 40; i++) await repo.saveBlob("data", randomBytes(50_000));
    await repo.saveBlob("tree", Buffer.from('{"nodes":[]}\n'));
    const res = await repo.flush();
    expect(res.indexFiles.length).toBe(1);
    const packs = repo.index.packs();
    for (const p of packs.values()) {
      expect(new Set(p.blobs.map((b) => b.type)).size).toBe(1);
      expect(p.size).toBeLessThan(256 * 1024 + 60_000);
    }
    expect([...packs.values()].filter((p) => p.blobs[0]!.type === "tree").length).toBe(1);
    expect(storage.maxActive).toBeLessThanOrEqual(2);
    // Crash-safe order: every pack is stored before the index file that names it.
    expect(storage.log.lastIndexOf("data")).toBeLessThan(storage.log.indexOf("index"));
  });

  it("deduplicates within a run and across runs", async () => {
    const { storage, repo } = await fresh();
    const blob = randomBytes(1000);
    expect((await repo.saveBlob("data", blob)).known).toBe(false);
    expect((await repo.saveBlob("data", blob)).known).toBe(true);
    expect(repo.hasBlob("tree", hashId(blob))).toBe(false);
    await repo.flush();
    const again = await Repository.open(storage, "pw");
    await again.loadIndex();
    expect(again.hasBlob("data", hashId(blob))).toBe(true);
    expect((await again.saveBlob("data", blob)).known).toBe(true);
    expect((await again.flush()).indexFiles).toEqual([]);
    expect((await again.loadBlob("data", hashId(blob))).equals(blob)).toBe(true);
  });

  it("splits index files at the blob limit", async () => {
    const { repo } = await fresh({ packSize: 4096, indexMaxBlobs: 10 });
    for (let i = 0; i < 45; i++) await repo.saveBlob("data", randomBytes(1000));
    await repo.flush();
    expect(repo.index.indexFiles.size).toBeGreaterThanOrEqual(5);
    for (const id of repo.index.indexFiles) {
      const packs = await repo.loadIndexFile(id);
      expect(packs.reduce((n, p) => n + p.blobs.length, 0)).toBeLessThanOrEqual(10);
    }
  });

  it("a failed pack upload fails the flush and writes no index naming it", async () => {
    const { storage, repo } = await fresh({ packSize: 64 * 1024 });
    storage.failData = true;
    await expect((async () => {
      for (let i = 0; i < 10; i++) await repo.saveBlob("data", randomBytes(20_000));
      await repo.flush();
    })()).rejects.toThrow(/disk on fire/);
    expect(storage.log).not.toContain("index");
  });

  it("caches index files locally (0600) and fetches only new ones on the next open", async () => {
    const cacheDir = await tmp("cache");
    const { storage, repo } = await fresh({ cacheDir });
    await repo.saveBlob("data", randomBytes(100));
    await repo.flush();
    const first = await Repository.open(storage, "pw", { cacheDir });
    expect(await first.loadIndex()).toEqual({ files: 1, downloaded: 0, cached: 1 }); // the writer cached its own
    await first.saveBlob("data", randomBytes(100));
    await first.flush();
    const second = await Repository.open(storage, "pw", { cacheDir });
    expect(await second.loadIndex()).toEqual({ files: 2, downloaded: 0, cached: 2 });
    const writtenElsewhere = await Repository.open(storage, "pw");
    await writtenElsewhere.saveBlob("data", randomBytes(100));
    const { indexFiles } = await writtenElsewhere.flush();
    const third = await Repository.open(storage, "pw", { cacheDir });
    expect(await third.loadIndex()).toEqual({ files: 3, downloaded: 1, cached: 2 });
    const dir = path.join(cacheDir, repo.config.id, "index");
    expect((await stat(path.join(dir, indexFiles[0]!))).mode & 0o777).toBe(0o600);
    // An index file deleted in the repository (prune) leaves the cache too.
    await third.deleteIndexFile(indexFiles[0]!);
    await (await Repository.open(storage, "pw", { cacheDir })).loadIndex();
    expect((await readdir(dir)).length).toBe(2);
  });

  it("keeps tree packs and snapshots in the local cache: the next run reads its parent's trees without a request", async () => {
    const cacheDir = await tmp("cache");
    const { storage, repo } = await fresh({ cacheDir });
    const trees = await Promise.all([1, 2, 3].map((n) => repo.saveBlob("tree", Buffer.from(`{"nodes":[],"n":${n}}\n`))));
    await repo.saveBlob("data", randomBytes(1000));
    await repo.flush();
    const snap = await repo.saveUnpacked("snapshots", JSON.stringify({ time: "2024-01-01T00:00:00Z", tree: trees[0]!.id, paths: ["/x"], hostname: "h" }));
    const loads: string[] = [];
    const counting = Object.assign(Object.create(storage) as RecordingStorage, {
      load: (type: FileType, name: string, range?: { offset: number; length: number }) => {
        loads.push(`${type}/${name}${range ? ` ${range.offset}+${range.length}` : ""}`);
        return storage.load(type, name, range);
      },
    });
    const next = await Repository.open(counting, "pw", { cacheDir });
    await next.loadIndex();
    loads.length = 0;
    expect(await next.loadSnapshot(snap)).toMatchObject({ tree: trees[0]!.id });
    for (const t of trees) expect((await next.loadBlob("tree", t.id)).toString()).toContain('"nodes":[]');
    expect(loads).toEqual([]);
    const packDir = path.join(cacheDir, repo.config.id, "tree-packs");
    const [cachedPack] = await readdir(packDir);
    expect((await stat(path.join(packDir, cachedPack!))).mode & 0o777).toBe(0o600);

    // Without the cached pack: one whole-pack download serves every tree of it, and is cached again.
    await rm(packDir, { recursive: true });
    const cold = await Repository.open(counting, "pw", { cacheDir });
    await cold.loadIndex();
    loads.length = 0;
    for (const t of trees) await cold.loadBlob("tree", t.id);
    expect(loads).toEqual([`data/${cachedPack}`]);
    expect(await readdir(packDir)).toEqual([cachedPack]);

    // A damaged cached copy is not used (it no longer hashes to its name): fetched again.
    await writeFile(path.join(packDir, cachedPack!), "garbage");
    const again = await Repository.open(counting, "pw", { cacheDir });
    await again.loadIndex();
    loads.length = 0;
    await again.loadBlob("tree", trees[1]!.id);
    expect(loads).toEqual([`data/${cachedPack}`]);

    // A check reads the repository's own copy: a damaged snapshot file there shows although the cache holds it whole.
    const snapFile = path.join(storage.root, "snapshots", snap);
    const original = await readFile(snapFile);
    await writeFile(snapFile, Buffer.concat([original.subarray(0, 40), Buffer.from("x"), original.subarray(41)]));
    expect(await again.loadSnapshot(snap)).toMatchObject({ tree: trees[0]!.id });
    await expect(again.loadUnpacked("snapshots", snap, { fresh: true })).rejects.toThrow();
    await writeFile(snapFile, original);

    // A pack pruned away (no longer indexed) leaves the cache at the next index load; a deleted snapshot too.
    for (const id of [...again.index.indexFiles]) await again.deleteIndexFile(id);
    await again.deleteSnapshot(snap);
    const after = await Repository.open(counting, "pw", { cacheDir });
    await after.loadIndex();
    expect(await after.listSnapshots()).toEqual([]);
    expect(await readdir(packDir)).toEqual([]);
    expect(await readdir(path.join(cacheDir, repo.config.id, "snapshots"))).toEqual([]);
  });

  it("a walk of many folders reads each tree pack once, whole; a download that does not hash to its name is read blob by blob, not again", async () => {
    const cacheDir = await tmp("cache");
    const { storage, repo } = await fresh({ cacheDir });
    // A root with 40 folders, each with a subfolder: 81 trees in one tree pack.
    const t = "2024-01-01T00:00:00Z";
    const dirNode = (name: string, subtree: string) => JSON.stringify({ name, type: "dir", mode: 2147484141, mtime: t, atime: t, ctime: t, uid: 0, gid: 0, subtree });
    const leaf = await repo.saveBlob("tree", Buffer.from('{"nodes":[]}\n'));
    const mids = [];
    for (let i = 0; i < 40; i++) mids.push(await repo.saveBlob("tree", Buffer.from(`{"nodes":[${dirNode(`sub${i}`, leaf.id)}]}\n`)));
    const root = await repo.saveBlob("tree", Buffer.from(`{"nodes":[${mids.map((m, i) => dirNode(`d${i}`, m.id)).join(",")}]}\n`));
    await repo.flush();
    await rm(path.join(cacheDir, repo.config.id, "tree-packs"), { recursive: true });
    const loads: string[] = [];
    const counting = Object.assign(Object.create(storage) as RecordingStorage, {
      load: (type: FileType, name: string, range?: { offset: number; length: number }) => {
        loads.push(`${type}/${name}${range ? ` ${range.offset}+${range.length}` : ""}`);
        return storage.load(type, name, range);
      },
    });
    const walked = async (r: Repository) => {
      const paths: string[] = [];
      await walkTrees(r, root.id, (w) => void paths.push(w.path));
      return paths.length;
    };
    const cold = await Repository.open(counting, "pw", { cacheDir });
    await cold.loadIndex();
    loads.length = 0;
    expect(await walked(cold)).toBe(80);
    const [pack] = await readdir(path.join(cacheDir, repo.config.id, "tree-packs"));
    expect(loads).toEqual([`data/${pack}`]);
    // Twice in one run (a restore walks for its folders, then for its files): from memory.
    loads.length = 0;
    expect(await walked(cold)).toBe(80);
    expect(loads).toEqual([]);

    // The remote's pack changed after the index was written (a byte outside every tree: the trees still verify).
    await rm(path.join(cacheDir, repo.config.id, "tree-packs"), { recursive: true });
    const file = path.join(storage.root, "data", pack!.slice(0, 2), pack!);
    const bytes = await readFile(file);
    await writeFile(file, Buffer.concat([bytes, Buffer.from("x")]));
    const damaged = await Repository.open(counting, "pw", { cacheDir });
    await damaged.loadIndex();
    loads.length = 0;
    expect(await walked(damaged)).toBe(80);
    // One whole download (refused: not cached), then ranges; never the whole pack again.
    expect(loads.filter((l) => !l.includes("+"))).toEqual([`data/${pack}`]);
    expect(loads.length).toBeGreaterThan(1);
    expect(await readdir(path.join(cacheDir, repo.config.id, "tree-packs")).catch(() => [])).toEqual([]);
  });

  it("keeps the key file that opened locally: the next open reads no key, and a folder re-initialised since is still opened right", async () => {
    const cacheDir = await tmp("cache");
    const { storage, repo } = await fresh();
    const loads: string[] = [];
    const counting = Object.assign(Object.create(storage) as RecordingStorage, {
      load: (type: FileType, name: string, range?: { offset: number; length: number }) => {
        loads.push(`${type}/${name}`);
        return storage.load(type, name, range);
      },
      list: (type: "keys") => {
        loads.push(`list ${type}`);
        return storage.list(type);
      },
    });
    await Repository.open(counting, "pw", { cacheDir, keyHint: repo.keyId }); // downloads the key once, keeps it
    loads.length = 0;
    const again = await Repository.open(counting, "pw", { cacheDir, keyHint: repo.keyId });
    expect(again.config.id).toBe(repo.config.id);
    expect(loads).toEqual(["config/"]);

    // The folder now holds another repository with the same password: the kept key opens, the config does not
    // authenticate with it, and the repository's own keys are asked instead.
    await rm(storage.root, { recursive: true });
    const other = await Repository.init(storage, "pw", { kdf: KDF });
    const reopened = await Repository.open(counting, "pw", { cacheDir, keyHint: repo.keyId });
    expect(reopened.config.id).toBe(other.config.id);
    expect(reopened.keyId).toBe(other.keyId);
  });

  describe("staged data packs (a local folder)", () => {
    it("writes each data blob to a staged file as it comes; the flush moves complete packs into place, readable, restic-sized", async () => {
      const { storage, repo } = await fresh({ packSize: 1 << 20 });
      storage.staging = true;
      const blobs = Array.from({ length: 12 }, (_, i) => randomBytes(150_000 + i));
      for (const b of blobs.slice(0, 3)) await repo.saveBlob("data", b);
      // Not flushed: the open pack's bytes are on disk under a temporary name, no pack is listed yet.
      expect(await stagedFiles(storage.root)).toHaveLength(1);
      expect(await storage.list("data")).toEqual([]);
      for (const b of blobs.slice(3)) await repo.saveBlob("data", b);
      await repo.saveBlob("tree", Buffer.from('{"nodes":[]}\n'));
      const flushed = await repo.flush();
      expect(flushed.packs).toBeGreaterThanOrEqual(2);
      expect(await stagedFiles(storage.root)).toEqual([]);
      // Only tree packs and index files went through save(): the data packs were staged.
      expect(storage.log.filter((t) => t === "data")).toHaveLength(1);
      const again = await Repository.open(new DirStorage(storage.root), "pw");
      await again.loadIndex();
      for (const b of blobs) expect((await again.loadBlob("data", hashId(b))).equals(b)).toBe(true);
      for (const f of await storage.list("data")) expect(hashId(await storage.load("data", f.name))).toBe(f.name);
    });

    it("a staged write the disk refuses fails the run with the file system's reason; no index names the pack, nothing staged stays", async () => {
      const { storage, repo } = await fresh({ packSize: 256 * 1024 });
      storage.staging = true;
      // data/ replaced by a file: no staged pack can be created (what a full or read-only disk does, portably).
      await rm(path.join(storage.root, "data"), { recursive: true });
      await writeFile(path.join(storage.root, "data"), "not a folder");
      const err = await (async () => {
        for (let i = 0; i < 10; i++) await repo.saveBlob("data", randomBytes(60_000));
        await repo.flush();
      })().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect((err as Error).message).toMatch(/(writing a pack|storing data\/\S+) in \S+ failed/);
      expect(storage.log).not.toContain("index");
      await repo.close();
    });

    it("close() without a flush (a failed or stopped run) removes the open pack's staged file", async () => {
      const { storage, repo } = await fresh({ packSize: 4 << 20 });
      storage.staging = true;
      for (let i = 0; i < 5; i++) await repo.saveBlob("data", randomBytes(100_000));
      expect(await stagedFiles(storage.root)).toHaveLength(1);
      await repo.close();
      expect(await stagedFiles(storage.root)).toEqual([]);
      expect(await storage.list("data")).toEqual([]);
    });
  });
});
