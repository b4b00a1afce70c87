// prune against the real restic 0.14: after forgetting snapshots, unreferenced packs go, sparse packs are repacked,
// packs no index names are removed, the repository passes `restic check --read-data` and the remaining snapshots
// restore byte for byte; a dry run changes nothing; a damaged repository is refused untouched; a prune killed between
// its steps (simulated by a storage that fails a deletion) leaves a repository restic still checks clean.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { Repository } from "./repository.js";
import { forgetSnapshots, pruneRepository } from "./prune.js";
import type { FileType } from "./storage.js";
import { initResticRepo, type ResticRepo } from "./testing/restic-oracle.js";

let oracle: ResticRepo | undefined;
afterEach(() => oracle?.close());

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(dir, "");
  return out.sort();
}

/** A restic repository with three snapshots: shared small files, one big file only in the first, churn in between. */
async function setup() {
  oracle = await initResticRepo();
  const repoDir = oracle.env.RESTIC_REPOSITORY!;
  const src = path.join(oracle.dir, "src");
  await mkdir(src, { recursive: true });
  for (let i = 0; i < 200; i++) await writeFile(path.join(src, `f${i}.txt`), randomBytes(2000).toString("hex"));
  await writeFile(path.join(src, "big.bin"), randomBytes(5 << 20));
  const first = await oracle.backup(src);
  await rm(path.join(src, "big.bin"));
  for (let i = 0; i < 100; i++) await writeFile(path.join(src, `f${i}.txt`), randomBytes(2000).toString("hex")); // half the small files change
  const second = await oracle.backup(src);
  await writeFile(path.join(src, "late.txt"), "late\n");
  const third = await oracle.backup(src);
  return { repoDir, src, first, second, third };
}

const open = (dir: string, storage = new DirStorage(dir)) => Repository.open(storage, "oracle");

describe("pruneRepository", () => {
  it("removes what forgotten snapshots alone used; restic checks the result and restores the rest", async () => {
    const { repoDir, src, first, third } = await setup();
    await oracle!.run(["forget", first.snapshotId]);
    const before = await listAll(repoDir);
    const repo = await open(repoDir);
    const dry = await pruneRepository(repo, { dryRun: true });
    expect(await listAll(repoDir)).toEqual(before);
    expect(dry.plan.packsToDelete.length + dry.plan.packsToRepack.length).toBeGreaterThan(0);
    expect(dry.plan.bytesFreed).toBeGreaterThan(5 << 20); // the big file's packs
    const r = await pruneRepository(repo, { dryRun: false, maxUnused: 0 });
    await repo.close();
    expect(r.freedBytes).toBe(dry.plan.bytesFreed);
    // the old versions of f0–f99 share packs with f100–f199: those packs are repacked, and every removed pack is gone
    expect(r.plan.packsToRepack.length).toBeGreaterThan(0);
    const after = await listAll(repoDir);
    for (const f of r.removed) expect(after).not.toContain(f);
    expect(r.removed.filter((f) => f.startsWith("data/")).length).toBe(r.plan.packsToDelete.length + r.plan.packsToRepack.length + r.plan.unindexedPacks.length);
    await oracle!.run(["check", "--read-data"]);
    // nothing unused is left (restic's prune --dry-run finds nothing to do)
    const again = await pruneRepository(await open(repoDir), { dryRun: true, maxUnused: 0 });
    expect(again.plan.packsToDelete).toEqual([]);
    expect(again.plan.packsToRepack).toEqual([]);
    const out = path.join(oracle!.dir, "out");
    await oracle!.run(["restore", third.snapshotId, "--target", out]);
    for (const f of ["f0.txt", "f150.txt", "late.txt"]) expect(await readFile(path.join(out, f))).toEqual(await readFile(path.join(src, f)));
  }, 120_000);

  it("removes packs no index names and refuses a damaged repository without changing it", async () => {
    const { repoDir } = await setup();
    // A pack no index names (an interrupted backup's).
    const stray = await open(repoDir);
    await stray.saveBlob("data", randomBytes(4096));
    const flushed = await stray.flush();
    // forget the index file just written: its pack is now unindexed
    for (const id of flushed.indexFiles) await rm(path.join(repoDir, "index", id));
    const r = await pruneRepository(await open(repoDir), { dryRun: false });
    expect(r.plan.unindexedPacks.length).toBeGreaterThanOrEqual(1);
    await oracle!.run(["check", "--read-data"]);

    // Damaged: a pack the index names is gone → refused, nothing changed.
    const packs = (await listAll(repoDir)).filter((f) => f.startsWith("data/"));
    await rm(path.join(repoDir, packs[0]!));
    const before = await listAll(repoDir);
    await expect(pruneRepository(await open(repoDir), { dryRun: false })).rejects.toThrow(/refusing to prune/);
    expect(await listAll(repoDir)).toEqual(before);
  }, 120_000);

  it("a prune that dies between its steps leaves a repository restic checks clean", async () => {
    const { repoDir, src, second, third } = await setup();
    await oracle!.run(["forget", second.snapshotId]);
    for (const failOn of ["index", "data"] as FileType[]) {
      class Failing extends DirStorage {
        override async remove(type: FileType, name: string): Promise<void> {
          if (type === failOn) throw new Error(`simulated crash before deleting ${type}/${name}`);
          return super.remove(type, name);
        }
      }
      const repo = await open(repoDir, new Failing(repoDir));
      await expect(pruneRepository(repo, { dryRun: false, maxUnused: 0 })).rejects.toThrow(/simulated crash/);
      await oracle!.run(["check", "--read-data"]);
    }
    await pruneRepository(await open(repoDir), { dryRun: false, maxUnused: 0 });
    await oracle!.run(["check", "--read-data"]);
    const out = path.join(oracle!.dir, "out2");
    await oracle!.run(["restore", third.snapshotId, "--target", out]);
    expect(await readFile(path.join(out, "late.txt"), "utf8")).toBe("late\n");
    expect(await readFile(path.join(out, "f3.txt"))).toEqual(await readFile(path.join(src, "f3.txt")));
  }, 120_000);
  it("forgets snapshots one by one (a failure is collected, not thrown); refuses when a tree's pack is unindexed", async () => {
    const { repoDir, ...short } = await setup();
    // restic 0.14's backup summary names the snapshot by its short ID: the full names come from `snapshots --json`.
    const all = (JSON.parse(await oracle!.text(["snapshots", "--json"])) as Array<{ id: string }>).map((s) => s.id);
    const full = (id: string) => all.find((f) => f.startsWith(id))!;
    const [first, second, third] = [short.first, short.second, short.third].map((s) => ({ snapshotId: full(s.snapshotId) })) as [{ snapshotId: string }, { snapshotId: string }, { snapshotId: string }];
    class FailOne extends DirStorage {
      override async remove(type: FileType, name: string): Promise<void> {
        if (type === "snapshots" && name === second.snapshotId) throw new Error("simulated failure");
        return super.remove(type, name);
      }
    }
    const f = await forgetSnapshots(await open(repoDir, new FailOne(repoDir)), [first.snapshotId, second.snapshotId]);
    expect(f.removed).toEqual([first.snapshotId]);
    expect(f.errors).toEqual([`${second.snapshotId.slice(0, 8)}: simulated failure`]);
    const left = JSON.parse(await oracle!.text(["snapshots", "--json"])) as Array<{ id: string }>;
    expect(left.map((s) => s.id).sort()).toEqual([second.snapshotId, third.snapshotId].sort());

    // The index loses the entry of a pack holding trees: the pack is "unindexed" but holds the only copy of needed
    // trees, so prune must refuse (naming the tree) instead of deleting it.
    const repo = await open(repoDir);
    await repo.loadIndex();
    const packs = repo.index.packs();
    const treePack = repo.index.lookup("tree", short.third.tree)[0]!.packId; // a kept snapshot's root tree
    const oldIndex = [...repo.index.indexFiles];
    await repo.saveIndexFile([...packs].filter(([id]) => id !== treePack).map(([id, p]) => ({ id, blobs: p.blobs })));
    for (const id of oldIndex) await repo.deleteIndexFile(id);
    const before = await listAll(repoDir);
    await expect(pruneRepository(await open(repoDir), { dryRun: false })).rejects.toThrow(/refusing to prune: tree [0-9a-f]{8} of snapshot/);
    expect(await listAll(repoDir)).toEqual(before);
    expect(before).toContain(`data/${treePack.slice(0, 2)}/${treePack}`);
  }, 120_000);
});
