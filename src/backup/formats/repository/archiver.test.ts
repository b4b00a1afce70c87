// The archiver against the real restic 0.14: the same directory gives the same tree and blob IDs in both tools, the
// repository passes `restic check --read-data`, restic restores the snapshot byte for byte, and an incremental run
// reads only what changed.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { walkItems } from "../../tree-walk.js";
import { archiveEntries } from "./archiver.js";
import { DirStorage } from "./backend-dir.js";
import { goTimeFromNs } from "./go-time.js";
import { Repository } from "./repository.js";
import { encodeSnapshot } from "./snapshot-doc.js";
import { initResticRepo, type ResticRepo } from "./testing/restic-oracle.js";

let restic: ResticRepo;
let work: string;

beforeAll(async () => {
  restic = await initResticRepo();
  work = await mkdtemp(path.join(os.tmpdir(), "archiver-"));
});
afterAll(async () => {
  restic?.close();
  await rm(work, { recursive: true, force: true });
});

async function makeTree(root: string): Promise<void> {
  await mkdir(path.join(root, "notes/deep"), { recursive: true });
  await mkdir(path.join(root, "empty-dir"));
  await writeFile(path.join(root, "notes/a.md"), "# A\n".repeat(1000));
  await writeFile(path.join(root, "notes/deep/b.txt"), "b");
  await writeFile(path.join(root, "empty.txt"), "");
  await writeFile(path.join(root, "big.bin"), randomBytes(3 * 1024 * 1024 + 17));
  await writeFile(path.join(root, "naïve name ✓.txt"), "unicode");
  await symlink("notes/a.md", path.join(root, "link"));
  await utimes(path.join(root, "notes/a.md"), new Date("2024-01-02T03:04:05.678Z"), new Date("2024-01-02T03:04:05.678Z"));
}

async function snapshot(repo: Repository, tree: string, paths: string[]): Promise<string> {
  await repo.flush();
  const doc = encodeSnapshot({ time: goTimeFromNs(BigInt(Date.now()) * 1_000_000n), tree, paths, hostname: "archiver-test" });
  return repo.saveUnpacked("snapshots", doc);
}

describe("archiveEntries", () => {
  it("writes the trees and blobs restic writes, which restic checks and restores", async () => {
    const src = path.join(work, "src");
    await makeTree(src);
    const theirs = await restic.backup(src);
    const repo = await Repository.open(new DirStorage(restic.env.RESTIC_REPOSITORY!), "oracle");
    await repo.loadIndex();
    const ours = await archiveEntries(repo, { entries: walkItems([{ name: "ws", root: src }]) });
    const id = await snapshot(repo, ours.tree, [src]);
    // Our root holds "ws"; its subtree is the directory's own tree, which is restic's root for `backup .`.
    const root = await repo.loadBlob("tree", ours.tree);
    const wsNode = JSON.parse(root.toString()).nodes[0];
    expect(wsNode.name).toBe("ws");
    expect(wsNode.subtree).toBe(theirs.tree);
    // restic had every data blob and every tree below the root already: only the root is new.
    expect(ours.stats.dataBlobs).toBe(0);
    expect(ours.stats.treeBlobs).toBe(1);
    expect(ours.stats.files).toBe(5);
    await repo.close();
    await restic.run(["check", "--read-data"]);
    const out = path.join(work, "restored");
    await restic.run(["restore", id, "--target", out]);
    expect(await readFile(path.join(out, "ws/big.bin"))).toEqual(await readFile(path.join(src, "big.bin")));
    expect(await readFile(path.join(out, "ws/notes/a.md"), "utf8")).toBe("# A\n".repeat(1000));
  });

  it("stores new data into a fresh repository and reads only changed files the second time", async () => {
    const dir = await mkdtemp(path.join(work, "fresh-"));
    const src = path.join(dir, "src");
    await makeTree(src);
    const repoDir = path.join(dir, "repo");
    const repo = await Repository.init(new DirStorage(repoDir), "pw", { kdf: { N: 1024, r: 8, p: 1 } });
    const cron = path.join(dir, "cron");
    await makeTree(cron);
    await writeFile(path.join(dir, "extra.txt"), "extra");
    const items = [
      { name: "state/cron", root: cron },
      { name: "workspace", root: src },
      { name: "state/more", root: path.join(cron, "notes") }, // inside an item: archived once, under state/cron
      { name: "state/b.txt", root: path.join(dir, "extra.txt") }, // a file item after another item: state/ entered twice
    ];
    const first = await archiveEntries(repo, { entries: walkItems(items) });
    expect(first.stats.bytesRead).toBe(first.stats.bytes);
    expect(first.stats.filesNew).toBe(first.stats.files);
    const id1 = await snapshot(repo, first.tree, [src]);

    await writeFile(path.join(src, "notes/deep/b.txt"), "changed");
    await writeFile(path.join(cron, "notes/deep/b.txt"), "changed");
    const second = await archiveEntries(repo, { entries: walkItems(items), parentTree: first.tree });
    expect(second.stats.bytesRead).toBe("changed".length * 2); // b.txt in both folders
    expect(second.stats.filesChanged).toBe(2);
    expect(second.stats.filesUnmodified).toBe(second.stats.files - 2);
    expect(second.stats.dataBlobs).toBe(1);
    const id2 = await snapshot(repo, second.tree, [src]);

    const third = await archiveEntries(repo, { entries: walkItems(items), parentTree: second.tree });
    expect(third.tree).toBe(second.tree);
    expect(third.stats.bytesRead).toBe(0);
    expect(third.stats.treeBlobs).toBe(0);
    await repo.close();

    const env = { RESTIC_REPOSITORY: repoDir, RESTIC_PASSWORD: "pw" };
    await restic.run(["check", "--read-data"], { env });
    const out = path.join(dir, "out");
    await restic.run(["restore", id2, "--target", out], { env });
    expect(await readFile(path.join(out, "workspace/notes/deep/b.txt"), "utf8")).toBe("changed");
    expect(await readFile(path.join(out, "state/cron/notes/deep/b.txt"), "utf8")).toBe("changed");
    expect(await readFile(path.join(out, "workspace/big.bin"))).toEqual(await readFile(path.join(src, "big.bin")));
    const ls = await restic.text(["ls", id1], { env });
    expect(ls).toContain("/state/cron/notes/a.md");
    expect(ls).toContain("/state/b.txt");
    expect(ls).not.toContain("/state/more");
    expect(ls).toContain("/workspace/empty-dir");
  });

  it("gives an incremental run the trees a full run gives, taking unchanged folders' trees from the parent", async () => {
    const dir = await mkdtemp(path.join(work, "incremental-"));
    const src = path.join(dir, "src");
    await makeTree(src);
    await mkdir(path.join(src, "many"));
    for (let i = 0; i < 300; i++) await writeFile(path.join(src, "many", `f${String(i).padStart(3, "0")}.md`), `note ${i}\n`);
    const repoDir = path.join(dir, "repo");
    const repo = await Repository.init(new DirStorage(repoDir), "pw", { kdf: { N: 1024, r: 8, p: 1 } });
    // The walk's own lstat, as a backup hands it: the archiver's fast path for unchanged files needs it.
    const walk = () => walkItems([{ name: "workspace", root: src }], { stats: true });
    const first = await archiveEntries(repo, { entries: walk() });
    await snapshot(repo, first.tree, [src]); // flushed: the next run reads its parent's trees

    // Metadata only (mode), time only, content, one file added, one removed: each in a different folder.
    await chmod(path.join(src, "notes/a.md"), 0o600);
    await utimes(path.join(src, "notes/deep/b.txt"), new Date("2023-05-06T07:08:09.123Z"), new Date("2023-05-06T07:08:09.123Z"));
    await writeFile(path.join(src, "many/f150.md"), "note 150, edited\n");
    await writeFile(path.join(src, "many/new.md"), "new\n");
    await rm(path.join(src, "empty.txt"));
    const second = await archiveEntries(repo, { entries: walk(), parentTree: first.tree });
    await snapshot(repo, second.tree, [src]);
    const full = await archiveEntries(repo, { entries: walk(), force: true });
    expect(second.tree).toBe(full.tree);
    expect(second.stats.filesChanged).toBe(3); // a.md (mode → ctime), b.txt (mtime), f150.md
    expect(second.stats.filesNew).toBe(1);
    expect(second.stats.filesUnmodified).toBe(second.stats.files - 4);
    expect(second.stats.dirsUnmodified).toBe(1); // empty-dir; every other folder holds a change
    expect(second.stats.bytesRead).toBe("note 150, edited\n".length + "new\n".length + "# A\n".length * 1000 + 1);

    const third = await archiveEntries(repo, { entries: walk(), parentTree: second.tree });
    expect(third.tree).toBe(second.tree);
    expect(third.stats.dirsUnmodified).toBe(third.stats.dirs);
    expect(third.stats.filesUnmodified).toBe(third.stats.files);
    expect(third.stats.bytesRead).toBe(0);
    const id = await snapshot(repo, third.tree, [src]);
    await repo.close();

    const env = { RESTIC_REPOSITORY: repoDir, RESTIC_PASSWORD: "pw" };
    await restic.run(["check", "--read-data"], { env });
    const out = path.join(dir, "out");
    await restic.run(["restore", id, "--target", out], { env });
    expect(await readFile(path.join(out, "workspace/many/f150.md"), "utf8")).toBe("note 150, edited\n");
    expect(await readFile(path.join(out, "workspace/many/f299.md"), "utf8")).toBe("note 299\n");
  });
});

describe("archiveEntries with the parent's folder records", () => {
  it("gives the trees and counts a run without them gives, and reads no parent tree for unchanged folders", async () => {
    const dir = await mkdtemp(path.join(work, "records-"));
    const src = path.join(dir, "src");
    await makeTree(src);
    await mkdir(path.join(src, "many/sub"), { recursive: true });
    for (let i = 0; i < 200; i++) await writeFile(path.join(src, "many", `f${String(i).padStart(3, "0")}.md`), `note ${i}\n`);
    await writeFile(path.join(src, "many/sub/s.md"), "s\n");
    await mkdir(path.join(src, "gone-dir"));
    await writeFile(path.join(src, "gone-dir/x"), "x");
    const repo = await Repository.init(new DirStorage(path.join(dir, "repo")), "pw", { kdf: { N: 1024, r: 8, p: 1 } });
    let treeLoads = 0;
    const loadBlob = repo.loadBlob.bind(repo);
    repo.loadBlob = ((type, id, opts) => {
      if (type === "tree") treeLoads++;
      return loadBlob(type, id, opts);
    }) as typeof repo.loadBlob;
    const walk = () => walkItems([{ name: "workspace", root: src }], { stats: true });
    const first = await archiveEntries(repo, { entries: walk() });
    await snapshot(repo, first.tree, [src]);
    expect([...first.folders.keys()].sort()).toEqual(["workspace", "workspace/empty-dir", "workspace/gone-dir", "workspace/many", "workspace/many/sub", "workspace/notes", "workspace/notes/deep"]);
    expect([...first.folders.values()].every((r) => r.digest)).toBe(true);

    // Unchanged: every folder keeps its recorded tree; not one tree of the parent is read.
    treeLoads = 0;
    const same = await archiveEntries(repo, { entries: walk(), parentTree: first.tree, parentFolders: first.folders });
    expect(same.tree).toBe(first.tree);
    expect(treeLoads).toBe(1); // the root's (a made-up folder above the items): nothing below it
    expect(same.stats).toMatchObject({ files: first.stats.files, filesUnmodified: first.stats.files, bytesRead: 0, dirsUnmodified: same.stats.dirs });
    expect(same.folders).toEqual(first.folders);

    // Changes in some folders; the others must still be kept from their records.
    await chmod(path.join(src, "notes/a.md"), 0o600);
    await utimes(path.join(src, "notes/deep/b.txt"), new Date("2023-05-06T07:08:09.123Z"), new Date("2023-05-06T07:08:09.123Z"));
    await writeFile(path.join(src, "many/f150.md"), "note 150, edited\n");
    await chmod(path.join(src, "empty-dir"), 0o700); // a folder's own mode: its parent's record must see it
    await rm(path.join(src, "link"));
    await symlink("notes/deep/b.txt", path.join(src, "link"));
    await rm(path.join(src, "gone-dir"), { recursive: true });
    await mkdir(path.join(src, "new-dir"));
    await writeFile(path.join(src, "new-dir/n.md"), "n\n");
    const withRecords = await archiveEntries(repo, { entries: walk(), parentTree: same.tree, parentFolders: same.folders });
    const without = await archiveEntries(repo, { entries: walk(), parentTree: same.tree });
    const full = await archiveEntries(repo, { entries: walk(), force: true });
    expect(withRecords.tree).toBe(full.tree);
    expect(without.tree).toBe(full.tree);
    const { dataBlobs: _a, treeBlobs: _b, dataAdded: _c, dataAddedPacked: _d, ...counts } = withRecords.stats;
    const { dataBlobs: _e, treeBlobs: _f, dataAdded: _g, dataAddedPacked: _h, ...countsWithout } = without.stats;
    expect(counts).toEqual(countsWithout);
    expect(withRecords.folders).toEqual(without.folders);
    expect(withRecords.folders.get("workspace/many/sub")).toEqual(same.folders.get("workspace/many/sub"));
    await snapshot(repo, withRecords.tree, [src]);

    // Only a file's mode (and so its ctime) in a folder where nothing else changed.
    await chmod(path.join(src, "many/sub/s.md"), 0o640);
    const modeOnly = await archiveEntries(repo, { entries: walk(), parentTree: withRecords.tree, parentFolders: withRecords.folders });
    expect(modeOnly.tree).toBe((await archiveEntries(repo, { entries: walk(), force: true })).tree);
    expect(modeOnly.stats.filesChanged).toBe(1);
    await snapshot(repo, modeOnly.tree, [src]);

    // A time zone change shows in every node's times (offsets): no record may hide it.
    const tz = process.env.TZ;
    process.env.TZ = "Asia/Kolkata";
    try {
      const shifted = await archiveEntries(repo, { entries: walk(), parentTree: modeOnly.tree, parentFolders: modeOnly.folders });
      const shiftedFull = await archiveEntries(repo, { entries: walk(), force: true });
      expect(shifted.tree).toBe(shiftedFull.tree);
      expect(shifted.tree).not.toBe(modeOnly.tree);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }

    // A record whose tree the index no longer has is not trusted.
    const fake = new Map(modeOnly.folders);
    fake.set("workspace/many/sub", { ...fake.get("workspace/many/sub")!, tree: "0".repeat(64) });
    const guarded = await archiveEntries(repo, { entries: walk(), parentTree: modeOnly.tree, parentFolders: fake });
    expect(guarded.tree).toBe(modeOnly.tree);
    const id = await snapshot(repo, modeOnly.tree, [src]);
    await repo.close();
    const env = { RESTIC_REPOSITORY: path.join(dir, "repo"), RESTIC_PASSWORD: "pw" };
    await restic.run(["check", "--read-data"], { env });
    const out = path.join(dir, "out");
    await restic.run(["restore", id, "--target", out], { env });
    expect(await readFile(path.join(out, "workspace/many/f150.md"), "utf8")).toBe("note 150, edited\n");
  });
});
