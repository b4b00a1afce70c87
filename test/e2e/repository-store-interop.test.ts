// The restic-format storage layer against the real restic 0.14 binary: restic's repositories open with our code,
// ours pass restic's check --read-data and restore, and each side writes into the other's repository.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirStorage } from "../../src/backup/formats/repository/backend-dir.js";
import { seal } from "../../src/backup/formats/repository/crypto.js";
import { IntegrityError, NotARepositoryError, UnsupportedFormatError, WrongPasswordError } from "../../src/backup/formats/repository/errors.js";
import { hashId } from "../../src/backup/formats/repository/ids.js";
import { decodeBlob } from "../../src/backup/formats/repository/pack.js";
import { Repository } from "../../src/backup/formats/repository/repository.js";
import { randomBytesSeeded, stopAll, tempDir } from "../helpers/servers.js";
import { restic, resticInit } from "../support/restic-oracle.js";

const PASSWORD = "interop password";
const FAST_KDF = { N: 1024, r: 8, p: 1 };

/** A file's content split into blobs (any split is valid for restic; the real chunker comes from its own module). */
async function saveFile(repo: Repository, data: Buffer, piece = 700_000): Promise<string[]> {
  const ids: string[] = [];
  for (let at = 0; at < data.length; at += piece) ids.push((await repo.saveBlob("data", data.subarray(at, at + piece))).id);
  return ids;
}

/** A one-level tree blob written by hand ({"nodes":[…]}\n, nodes sorted by name). */
function treeJson(files: { name: string; content: string[]; size: number }[]): string {
  const t = "2024-05-01T10:00:00Z";
  const nodes = [...files]
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
    .map((f) => JSON.stringify({ name: f.name, type: "file", mode: 420, mtime: t, atime: t, ctime: t, uid: 1000, gid: 1000, size: f.size, content: f.content }));
  return `{"nodes":[${nodes.join(",")}]}\n`;
}

/** Files → blobs → tree → flush → snapshot (the crash-safe order). Returns the snapshot ID. */
async function writeSnapshot(repo: Repository, files: Record<string, Buffer>, host = "interop-host"): Promise<string> {
  const entries = [];
  for (const [name, data] of Object.entries(files)) entries.push({ name, content: await saveFile(repo, data), size: data.length });
  const tree = await repo.saveBlob("tree", Buffer.from(treeJson(entries)));
  await repo.flush();
  const snap = { time: new Date().toISOString(), tree: tree.id, paths: ["/interop"], hostname: host, username: "tester" };
  return repo.saveUnpacked("snapshots", JSON.stringify(snap));
}

async function restoreWithRestic(repoPath: string, snapshot: string): Promise<Record<string, Buffer>> {
  const target = await tempDir("restic-restore");
  await restic(["restore", snapshot, "--target", target], { repo: repoPath, password: PASSWORD });
  const out: Record<string, Buffer> = {};
  for (const name of await readdir(target)) out[name] = await readFile(path.join(target, name));
  return out;
}

/** Opens everything in a repository with our code: index, snapshots, every pack header and every blob. */
async function readEverything(repo: Repository): Promise<{ blobs: number; snapshots: number }> {
  await repo.loadIndex();
  const snapshots = await repo.listSnapshots();
  for (const id of snapshots) expect((await repo.loadSnapshot(id)) as { tree: string }).toHaveProperty("tree");
  let blobs = 0;
  const indexed = repo.index.packs();
  for (const { name, size } of await repo.listPacks()) {
    const header = await repo.readPackHeader(name, size);
    expect(header).toEqual(indexed.get(name)?.blobs);
    expect(size).toBe(indexed.get(name)?.size);
    const file = await repo.loadPack(name);
    expect(hashId(file)).toBe(name);
    for (const b of header) {
      decodeBlob(repo.key, b, file.subarray(b.offset, b.offset + b.length), name);
      blobs++;
    }
  }
  return { blobs, snapshots: snapshots.length };
}

describe("restic-format repository ⇄ restic 0.14", () => {
  let work: string;
  let source: string;
  const files: Record<string, Buffer> = {};

  beforeAll(async () => {
    work = await tempDir("repo-interop");
    source = path.join(work, "src");
    await mkdir(source, { recursive: true });
    files["big.bin"] = randomBytesSeeded(3 * 1024 * 1024 + 123, 7); // several chunks
    files["text.md"] = Buffer.from("# notes\n".repeat(20_000)); // compressible
    files["empty.txt"] = Buffer.alloc(0);
    files["small.json"] = Buffer.from('{"a":1}\n');
    for (const [name, data] of Object.entries(files)) await writeFile(path.join(source, name), data);
  });
  afterAll(() => stopAll());

  it("opens a repository restic created and backed up into: config, keys, index, snapshots, every blob", async () => {
    const repoPath = path.join(work, "by-restic");
    await resticInit(repoPath, PASSWORD);
    await restic(["backup", "--host", "oracle", "."], { repo: repoPath, password: PASSWORD, cwd: source });
    const repo = await Repository.open(new DirStorage(repoPath), PASSWORD);
    expect(repo.version).toBe(2);
    const cat = JSON.parse((await restic(["cat", "config"], { repo: repoPath, password: PASSWORD })).stdout) as { chunker_polynomial: string };
    expect(repo.config.chunkerPolynomial.toString(16)).toBe(cat.chunker_polynomial);
    const seen = await readEverything(repo);
    expect(seen.snapshots).toBe(1);
    // big.bin (3+ MiB: one chunk or more, as the random polynomial cuts it) + text + small + at least one tree; the
    // empty file has no blob
    expect(seen.blobs).toBeGreaterThanOrEqual(4);
    // Every content blob of restic's tree is found and hashes to its ID.
    const snap = (await repo.loadSnapshot((await repo.listSnapshots())[0]!)) as { tree: string };
    const root = JSON.parse((await repo.loadBlob("tree", snap.tree)).toString()) as { nodes: { name: string; subtree?: string; content?: string[] }[] };
    expect(root.nodes.map((n) => n.name)).toEqual(["big.bin", "empty.txt", "small.json", "text.md"]);
    const big = root.nodes.find((n) => n.name === "big.bin")!;
    const bytes = Buffer.concat(await Promise.all(big.content!.map((id) => repo.loadBlob("data", id))));
    expect(bytes.equals(files["big.bin"]!)).toBe(true);
    expect(root.nodes.find((n) => n.name === "empty.txt")!.content).toEqual([]);
    await repo.close();
  });

  it("creates a repository that restic reads: cat config, snapshots, check --read-data, restore", async () => {
    const repoPath = path.join(work, "by-us");
    const repo = await Repository.init(new DirStorage(repoPath), PASSWORD, { kdf: FAST_KDF });
    const snapshot = await writeSnapshot(repo, { "big.bin": files["big.bin"]!, "text.md": files["text.md"]!, "small.json": files["small.json"]! });
    await repo.close();
    const cfg = JSON.parse((await restic(["cat", "config"], { repo: repoPath, password: PASSWORD })).stdout) as { version: number };
    expect(cfg.version).toBe(2);
    const snaps = JSON.parse((await restic(["snapshots", "--json"], { repo: repoPath, password: PASSWORD })).stdout) as { id: string }[];
    expect(snaps.map((s) => s.id)).toEqual([snapshot]);
    const check = await restic(["check", "--read-data"], { repo: repoPath, password: PASSWORD });
    expect(check.stdout).toContain("no errors were found");
    const restored = await restoreWithRestic(repoPath, snapshot);
    expect(Object.keys(restored).sort()).toEqual(["big.bin", "small.json", "text.md"]);
    for (const [name, data] of Object.entries(restored)) expect(createHash("sha256").update(data).digest("hex")).toBe(hashId(files[name]!));
    // Our layout is restic's: packs under data/<2 hex>/, the compressed text blob stored as type 2.
    const dataDirs = await readdir(path.join(repoPath, "data"));
    expect(dataDirs.every((d) => /^[0-9a-f]{2}$/.test(d))).toBe(true);
  });

  it("each side writes into the other's repository, and both pass check --read-data", async () => {
    // We write into restic's repository.
    const theirs = path.join(work, "by-restic");
    const repo = await Repository.open(new DirStorage(theirs), PASSWORD);
    await repo.loadIndex();
    const before = repo.index.size;
    const ours = await writeSnapshot(repo, { "new.bin": randomBytes(200_000), "big.bin": files["big.bin"]! }, "ours");
    expect(repo.index.size).toBeGreaterThan(before);
    await repo.close();
    expect((await restic(["check", "--read-data"], { repo: theirs, password: PASSWORD })).stdout).toContain("no errors were found");
    expect(Object.keys(await restoreWithRestic(theirs, ours)).sort()).toEqual(["big.bin", "new.bin"]);

    // restic writes into ours.
    const mine = path.join(work, "by-us");
    await restic(["backup", "--host", "oracle", "."], { repo: mine, password: PASSWORD, cwd: source });
    expect((await restic(["check", "--read-data"], { repo: mine, password: PASSWORD })).stdout).toContain("no errors were found");
    const again = await Repository.open(new DirStorage(mine), PASSWORD);
    expect((await readEverything(again)).snapshots).toBe(2);
  });

  it("gives clear errors: wrong password, not a repository, newer format", async () => {
    const mine = path.join(work, "by-us");
    const wrong = await Repository.open(new DirStorage(mine), "nope").then(() => undefined, (e: unknown) => e as Error);
    expect(wrong).toBeInstanceOf(WrongPasswordError);
    expect(wrong?.message).not.toContain("nope");

    const plain = await tempDir("plain-folder");
    await writeFile(path.join(plain, "2024-01-01.tar.zst.age"), "not a repository");
    await expect(Repository.open(new DirStorage(plain), PASSWORD)).rejects.toBeInstanceOf(NotARepositoryError);

    const newer = path.join(work, "newer");
    const repo = await Repository.init(new DirStorage(newer), PASSWORD, { kdf: FAST_KDF });
    const cfg = JSON.stringify({ version: 3, id: repo.config.id, chunker_polynomial: repo.config.chunkerPolynomial.toString(16) });
    await repo.storage.save("config", "", seal(repo.key, Buffer.from(cfg)));
    await expect(Repository.open(new DirStorage(newer), PASSWORD)).rejects.toBeInstanceOf(UnsupportedFormatError);
    const resticSays = await restic(["cat", "config"], { repo: newer, password: PASSWORD, check: false });
    expect(resticSays.code).not.toBe(0); // restic 0.14 refuses it too
  });

  it("names a tampered pack, index or snapshot, and a pack whose size differs from the index", async () => {
    const repoPath = path.join(work, "tamper");
    const repo = await Repository.init(new DirStorage(repoPath), PASSWORD, { kdf: FAST_KDF });
    const snap = await writeSnapshot(repo, { "a.bin": randomBytes(100_000) });
    await repo.close();
    const open = () => Repository.open(new DirStorage(repoPath), PASSWORD);
    const flip = async (file: string, at: number) => {
      const bytes = await readFile(file);
      bytes[at]! ^= 0x40;
      await rm(file, { force: true });
      await writeFile(file, bytes);
    };

    const [indexId] = await readdir(path.join(repoPath, "index"));
    await flip(path.join(repoPath, "index", indexId!), 30);
    const idxErr = await open().then((r) => r.loadIndex()).then(() => undefined, (e: unknown) => e as IntegrityError);
    expect(idxErr).toBeInstanceOf(IntegrityError);
    expect(idxErr?.file).toBe(`index/${indexId}`);
    await flip(path.join(repoPath, "index", indexId!), 30);

    await flip(path.join(repoPath, "snapshots", snap), 20);
    const snapErr = await open().then((r) => r.loadSnapshot(snap)).then(() => undefined, (e: unknown) => e as IntegrityError);
    expect(snapErr?.file).toBe(`snapshots/${snap}`);
    await flip(path.join(repoPath, "snapshots", snap), 20);

    const r = await open();
    await r.loadIndex();
    const dataBlob = [...r.index.blobs()].find((b) => b.type === "data")!;
    const pack = dataBlob.packId;
    const packFile = path.join(repoPath, "data", pack.slice(0, 2), pack);
    await flip(packFile, dataBlob.offset + 40);
    const blobErr = await r.loadBlob("data", dataBlob.id).then(() => undefined, (e: unknown) => e as IntegrityError);
    expect(blobErr).toBeInstanceOf(IntegrityError);
    expect(blobErr?.message).toContain(`in pack data/${pack!.slice(0, 2)}/${pack}`);
    expect((await restic(["check", "--read-data"], { repo: repoPath, password: PASSWORD, check: false })).code).not.toBe(0);
    await flip(packFile, dataBlob.offset + 40);

    await writeFile(packFile, Buffer.concat([await readFile(packFile), Buffer.from("junk")]));
    const size = (await r.listPacks()).find((p) => p.name === pack)!.size;
    expect(size).not.toBe(r.index.packs().get(pack!)!.size);
    await expect(r.readPackHeader(pack!, size)).rejects.toThrow(/bytes but its header describes|header/);
    const resticCheck = await restic(["check"], { repo: repoPath, password: PASSWORD, check: false });
    expect(resticCheck.code).not.toBe(0);
  });
});
