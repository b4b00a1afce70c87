// The repository checker against restic 0.14's `check` as the oracle: on clean repositories both pass; on copies
// damaged one way each (tampered pack, index or snapshot, a missing pack, a pack of the wrong size, a tree missing
// from the index) both fail, and our findings name the file at fault. A pack no index names is a hint for both.
import { cp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RcloneStorage } from "../../src/backup/formats/repository/backend.js";
import { DirStorage } from "../../src/backup/formats/repository/backend-dir.js";
import { findRclone } from "../../src/rclone/binary.js";
import { checkPack, checkRepository, type RepositoryCheckReport } from "../../src/backup/formats/repository/checker.js";
import { seal } from "../../src/backup/formats/repository/crypto.js";
import { hashId } from "../../src/backup/formats/repository/ids.js";
import { PackWriter } from "../../src/backup/formats/repository/pack.js";
import { Repository } from "../../src/backup/formats/repository/repository.js";
import { encodeSnapshot } from "../../src/backup/formats/repository/snapshot-doc.js";
import { encodeTree } from "../../src/backup/formats/repository/tree.js";
import { randomBytesSeeded, rcloneEnv, stopAll, tempDir } from "../helpers/servers.js";
import { restic } from "../support/restic-oracle.js";

const PASSWORD = "checker password";
let work: string;
let clean: string;
let snapshots: string[];

async function copyRepo(name: string): Promise<string> {
  const dir = path.join(work, name);
  await cp(clean, dir, { recursive: true });
  return dir;
}

async function flip(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at < 0 ? bytes.length + at : at]! ^= 0x10;
  await rm(file);
  await writeFile(file, bytes);
}

async function ours(dir: string, readData = false, extra: Parameters<typeof checkRepository>[1] = {}): Promise<RepositoryCheckReport> {
  const repo = await Repository.open(new DirStorage(dir), PASSWORD);
  try {
    return await checkRepository(repo, { readData, ...extra });
  } finally {
    await repo.close();
  }
}

const resticCheck = (dir: string, readData = false) => restic(["check", ...(readData ? ["--read-data"] : [])], { repo: dir, password: PASSWORD, check: false });

/** The repository at `dir` through `rclone serve restic` on a local remote (reads come in pieces there). */
async function rcloneStorage(dir: string): Promise<RcloneStorage> {
  const conf = path.join(await tempDir("check-rclone"), "rclone.conf");
  await writeFile(conf, "[disk]\ntype = local\n");
  return new RcloneStorage({ bin: await findRclone(), configPath: conf, remotePath: `disk:${dir}`, env: rcloneEnv() });
}

async function packs(dir: string): Promise<{ id: string; file: string; tree: boolean }[]> {
  const repo = await Repository.open(new DirStorage(dir), PASSWORD);
  await repo.loadIndex();
  const out = [...repo.index.packs()].map(([id, p]) => ({ id, file: path.join(dir, "data", id.slice(0, 2), id), tree: p.blobs[0]!.type === "tree" }));
  await repo.close();
  return out;
}

beforeAll(async () => {
  work = await tempDir("repo-check");
  const src = path.join(work, "src");
  await cp(path.join(import.meta.dirname, "..", "..", "docs"), path.join(src, "docs"), { recursive: true });
  await writeFile(path.join(src, "big.bin"), randomBytesSeeded(5 * 1024 * 1024, 5));
  clean = path.join(work, "clean");
  await restic(["init", "--repository-version", "2"], { repo: clean, password: PASSWORD });
  await restic(["backup", "--host", "h", "."], { repo: clean, password: PASSWORD, cwd: src });
  await writeFile(path.join(src, "more.bin"), randomBytesSeeded(3 * 1024 * 1024, 6));
  await restic(["backup", "--host", "h", "."], { repo: clean, password: PASSWORD, cwd: src });
  snapshots = (await readdir(path.join(clean, "snapshots"))).sort();
}, 300_000);
afterAll(() => stopAll());

describe("checkRepository, with restic check as the oracle", () => {
  it("passes a clean repository, structure and data, and counts what each snapshot holds", async () => {
    const r = await ours(clean, true);
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.snapshots.map((s) => s.ok)).toEqual([true, true]);
    expect(r.packs.read).toBe(r.packs.indexed);
    const files = r.snapshots.map((s) => s.found.files).sort((a, b) => a - b);
    expect(files[1]).toBe(files[0]! + 1); // the second backup has more.bin
    expect((await resticCheck(clean, true)).code).toBe(0);
  });

  it("a tampered data pack: structure passes, --read-data names the pack and fails the snapshots using it", async () => {
    const dir = await copyRepo("tampered-pack");
    const target = (await packs(dir)).find((p) => !p.tree)!;
    await flip(target.file, 200);
    expect((await ours(dir)).ok).toBe(true);
    const r = await ours(dir, true);
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => e.file)).toContain(`data/${target.id.slice(0, 2)}/${target.id}`);
    expect(r.errors[0]!.message).toMatch(/does not match its name/);
    expect(r.snapshots.some((s) => !s.ok && s.errors.some((e) => e.includes(target.id)))).toBe(true);
    expect((await resticCheck(dir, true)).code).not.toBe(0);
  });

  it("a tampered index file is named; restic check fails too", async () => {
    const dir = await copyRepo("tampered-index");
    const [idx] = await readdir(path.join(dir, "index"));
    await flip(path.join(dir, "index", idx!), 40);
    const r = await ours(dir);
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => e.file)).toContain(`index/${idx}`);
    expect((await resticCheck(dir)).code).not.toBe(0);
  });

  it("a tampered snapshot is named and fails that snapshot only", async () => {
    const dir = await copyRepo("tampered-snapshot");
    await flip(path.join(dir, "snapshots", snapshots[0]!), 33);
    const r = await ours(dir);
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => e.file)).toContain(`snapshots/${snapshots[0]}`);
    expect(r.snapshots.find((s) => s.id === snapshots[0])!.ok).toBe(false);
    expect(r.snapshots.find((s) => s.id === snapshots[1])!.ok).toBe(true);
    expect((await resticCheck(dir)).code).not.toBe(0);
  });

  it("a missing pack and a pack of the wrong size are errors naming them (structure only)", async () => {
    const dir = await copyRepo("missing-pack");
    const [a, b] = (await packs(dir)).filter((p) => !p.tree);
    await rm(a!.file);
    await writeFile(b!.file, Buffer.concat([await readFile(b!.file), Buffer.from("junk")]));
    const r = await ours(dir);
    expect(r.ok).toBe(false);
    const byFile = new Map(r.errors.map((e) => [e.file, e.message]));
    expect(byFile.get(`data/${a!.id.slice(0, 2)}/${a!.id}`)).toMatch(/does not exist/);
    expect(byFile.get(`data/${b!.id.slice(0, 2)}/${b!.id}`)).toMatch(/unexpected size/);
    expect(r.snapshots.every((s) => !s.ok)).toBe(true); // both snapshots hold big.bin
    expect((await resticCheck(dir)).code).not.toBe(0);
  });

  it("a pack no index names is a hint, not an error — for restic too", async () => {
    const dir = await copyRepo("orphan-pack");
    const repo = await Repository.open(new DirStorage(dir), PASSWORD);
    const w = new PackWriter(repo.key, "data");
    const data = Buffer.from("left behind by a killed backup");
    w.add(hashId(data), seal(repo.key, data), 0);
    const pack = w.finalize();
    await repo.storage.save("data", pack.id, pack.parts);
    await repo.close();
    const r = await ours(dir, true);
    expect(r.ok).toBe(true);
    expect(r.hints.map((h) => h.file)).toContain(`data/${pack.id.slice(0, 2)}/${pack.id}`);
    expect((await resticCheck(dir, true)).code).toBe(0);
  });

  it("a pack whose name matches its bytes but whose blob does not hash to its ID: --read-data names the blob and the pack", async () => {
    const dir = await copyRepo("forged-blob");
    const repo = await Repository.open(new DirStorage(dir), PASSWORD);
    const claimed = hashId(Buffer.from("what the index claims"));
    const w = new PackWriter(repo.key, "data");
    const good = Buffer.from("a blob that is what it says");
    w.add(hashId(good), seal(repo.key, good), 0);
    w.add(claimed, seal(repo.key, Buffer.from("something else")), 0);
    const pack = w.finalize();
    await repo.storage.save("data", pack.id, pack.parts);
    await repo.saveIndexFile([{ id: pack.id, blobs: pack.blobs }]);
    const size = pack.parts.reduce((n, part) => n + part.length, 0);
    const found = await checkPack(repo, pack.id, pack.blobs, size);
    await repo.close();
    const expected = `pack ${pack.id} contains 1 error(s): blob ${claimed}: data blob ${claimed} does not hash to its ID (damaged or tampered) (data/${pack.id.slice(0, 2)}/${pack.id})`;
    expect(found).toBe(expected);
    // Through rclone the pack comes in pieces, hashed and decoded as they arrive: the same finding.
    const storage = await rcloneStorage(dir);
    const load = storage.load.bind(storage);
    let inPieces = 0;
    storage.load = async (...args: Parameters<typeof load>) => {
      const answer = await load(...args);
      if (args[3]?.pieces && answer.length === 0) inPieces++;
      return answer;
    };
    const overRclone = await Repository.open(storage, PASSWORD);
    try {
      expect(await checkPack(overRclone, pack.id, pack.blobs, size)).toBe(expected);
      expect(inPieces).toBe(1);
      const clean = (await packs(dir)).find((p) => !p.tree && p.id !== pack.id)!;
      await overRclone.loadIndex();
      const cleanBlobs = overRclone.index.packs().get(clean.id as never)!.blobs;
      expect(await checkPack(overRclone, clean.id as never, cleanBlobs, (await stat(clean.file)).size)).toBeUndefined();
      await flip(clean.file, 300);
      expect(await checkPack(overRclone, clean.id as never, cleanBlobs, (await stat(clean.file)).size)).toMatch(/does not match its name/);
    } finally {
      await overRclone.close();
    }
    const r = await ours(dir, true);
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => e.file)).toContain(`data/${pack.id.slice(0, 2)}/${pack.id}`);
    expect((await resticCheck(dir, true)).code).not.toBe(0);
  });

  it("a tree missing from the index fails the snapshot that reaches it; restic check fails too", async () => {
    const dir = await copyRepo("missing-tree");
    const repo = await Repository.open(new DirStorage(dir), PASSWORD);
    const missing = hashId(Buffer.from("a tree nobody stored"));
    const t = { sec: 1_700_000_000, nsec: 0, offset: 0 };
    const root = await repo.saveBlob("tree", encodeTree([{ name: Buffer.from("sub"), type: "dir", mode: 0o755 | 2 ** 31, mtime: t, atime: t, ctime: t, uid: 0, gid: 0, content: null, subtree: missing }]));
    await repo.flush();
    const snap = await repo.saveUnpacked("snapshots", encodeSnapshot({ time: t, tree: root.id, paths: ["/x"], hostname: "h" }));
    await repo.close();
    const r = await ours(dir);
    expect(r.ok).toBe(false);
    const bad = r.snapshots.find((s) => s.id === snap)!;
    expect(bad.ok).toBe(false);
    expect(bad.errors.join("\n")).toContain(`tree ${missing} is not in the index`);
    expect(r.snapshots.filter((s) => s.id !== snap).every((s) => s.ok)).toBe(true);
    expect((await resticCheck(dir)).code).not.toBe(0);
  });

  it("a data subset reads about that share of the packs; one snapshot's scope reads only its packs", async () => {
    const all = await ours(clean, true);
    const half = await ours(clean, true, { subset: 0.5 });
    expect(half.packs.read).toBe(Math.max(1, Math.floor(all.packs.indexed * 0.5)));
    const first = await ours(clean, true, { snapshots: [snapshots[0]!] });
    expect(first.snapshots).toHaveLength(1);
    expect(first.packs.read).toBeLessThanOrEqual(all.packs.read);
    expect(first.ok).toBe(true);
  });
});
