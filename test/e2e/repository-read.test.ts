// The repository reader against the real restic 0.14: snapshots restic wrote (trees mirroring absolute paths, no
// product field) are walked exactly as `restic ls` lists them and restored byte for byte as `restic restore` does;
// --path reads only the selected files' data; hostile and damaged repositories fail safely, naming what is wrong.
import { execFileSync } from "node:child_process";
import { link, mkdir, readdir, readFile, rm, symlink, writeFile, chmod, utimes, cp } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restoreReader } from "../../src/backup/restore/snapshot-source.js";
import { judge } from "../../src/backup/entry-rules.js";
import type { SnapshotNode } from "../../src/backup/formats/format.js";
import { DirStorage } from "../../src/backup/formats/repository/backend-dir.js";
import { seal } from "../../src/backup/formats/repository/crypto.js";
import { IntegrityError } from "../../src/backup/formats/repository/errors.js";
import { hashId } from "../../src/backup/formats/repository/ids.js";
import type { Node } from "../../src/backup/formats/repository/node.js";
import { PackWriter } from "../../src/backup/formats/repository/pack.js";
import { openRepositorySnapshot, posixMode } from "../../src/backup/formats/repository/reader.js";
import { Repository } from "../../src/backup/formats/repository/repository.js";
import { encodeSnapshot } from "../../src/backup/formats/repository/snapshot-doc.js";
import { encodeTree } from "../../src/backup/formats/repository/tree.js";
import { randomBytesSeeded, readTreeDetailed, stopAll, tempDir } from "../helpers/servers.js";
import { restic } from "../support/restic-oracle.js";

const PASSWORD = "reader password";
const FAST_KDF = { N: 1024, r: 8, p: 1 };
const T0 = new Date("2024-03-01T12:00:00.123Z");

let work: string;
let source: string;
let repoPath: string;
let snapshotId: string;

/** A workspace with what restores get wrong: many small files, big ones, empty ones, links, odd names and modes. */
async function makeSource(dir: string): Promise<void> {
  await mkdir(path.join(dir, "notes", "deep", "deeper"), { recursive: true });
  for (let i = 0; i < 300; i++) await writeFile(path.join(dir, "notes", i % 3 ? "deep" : "", `n${i}.md`), `# note ${i}\n${"text ".repeat(i * 7)}\n`);
  await writeFile(path.join(dir, "big.bin"), randomBytesSeeded(12 * 1024 * 1024 + 321, 1)); // several chunks
  await writeFile(path.join(dir, "log.txt"), "line of a compressible log\n".repeat(200_000)); // compressible, > 1 chunk
  await writeFile(path.join(dir, "copy-of-big.bin"), await readFile(path.join(dir, "big.bin"))); // dedup inside one read
  await writeFile(path.join(dir, "empty.txt"), "");
  await mkdir(path.join(dir, "empty-dir"));
  await writeFile(path.join(dir, "notes", "deep", "deeper", "ünïcødé \"quoted\" \\ name\nline.md"), "odd name\n");
  await writeFile(path.join(dir, "private.key"), "secret-ish\n");
  await chmod(path.join(dir, "private.key"), 0o600);
  await writeFile(path.join(dir, "run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(path.join(dir, "run.sh"), 0o755);
  await symlink("notes/n0.md", path.join(dir, "link-to-note"));
  await symlink("/nonexistent/target", path.join(dir, "dangling"));
  await link(path.join(dir, "run.sh"), path.join(dir, "hardlink-to-run.sh"));
  execFileSync("mkfifo", [path.join(dir, "a-fifo")]);
  for (const f of ["big.bin", "log.txt", "empty.txt", "notes/n0.md"]) await utimes(path.join(dir, f), T0, T0);
}

/** Restores a snapshot with our reader into `target` (the format-neutral writer, as `backup restore` does). */
async function restoreOurs(repo: Repository, id: string, target: string, wanted?: (p: string) => boolean) {
  const reader = openRepositorySnapshot(repo, id);
  await mkdir(target, { recursive: true });
  const { check, stats } = await restoreReader(reader, target, wanted ? { filter: wanted, wanted: (n) => judge(n).rel !== undefined && wanted(judge(n).rel!) } : {});
  return { check, result: stats };
}

const open = () => Repository.open(new DirStorage(repoPath), PASSWORD);

beforeAll(async () => {
  work = await tempDir("repo-read");
  source = path.join(work, "src");
  await makeSource(source);
  repoPath = path.join(work, "repo");
  await restic(["init", "--repository-version", "2"], { repo: repoPath, password: PASSWORD });
  // An absolute path: restic's tree mirrors it (tmp/…/src/…), as on a real host.
  const out = await restic(["backup", "--json", "--host", "restic-host", source], { repo: repoPath, password: PASSWORD });
  const summary = out.stdout.trim().split("\n").map((l) => JSON.parse(l) as { message_type: string; snapshot_id?: string }).find((m) => m.message_type === "summary");
  snapshotId = (await open().then((r) => r.listSnapshots()))[0]!;
  expect(summary?.snapshot_id && snapshotId.startsWith(summary.snapshot_id)).toBeTruthy();
}, 300_000);
afterAll(() => stopAll());

describe("reading snapshots restic wrote", () => {
  it("nodes() lists exactly what `restic ls --json` lists, without reading file data", async () => {
    const ls = (await restic(["ls", "--json", snapshotId], { repo: repoPath, password: PASSWORD })).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { struct_type: string; path: string; type: string; size?: number; mode?: number; mtime: string })
      .filter((n) => n.struct_type === "node");
    const repo = await open();
    const ours: SnapshotNode[] = [];
    const storage = repo.storage as DirStorage;
    const loads: string[] = [];
    const load = storage.load.bind(storage);
    storage.load = (type, name, range, o) => {
      if (type === "data") loads.push(name);
      return load(type, name, range, o);
    };
    await openRepositorySnapshot(repo, snapshotId).nodes!(async (n) => void ours.push(n));
    expect(ours.map((n) => n.path)).toEqual(ls.map((n) => n.path.slice(1)));
    for (const [i, n] of ls.entries()) {
      const o = ours[i]!;
      expect(o.type === "other" ? o.kind : o.type).toBe(n.type);
      if (n.type === "file") expect(o.size).toBe(n.size);
      expect(o.mode).toBe(posixMode(n.mode ?? 0));
      expect(o.mtime!.getTime()).toBe(Math.floor(Date.parse(n.mtime)));
    }
    expect(ours.find((n) => n.path.endsWith("/a-fifo"))).toMatchObject({ type: "other", kind: "fifo" });
    expect(ours.find((n) => n.path.endsWith("/dangling"))).toMatchObject({ type: "symlink", linkTarget: "/nonexistent/target" });
    // Only trees were read: every pack read is a tree pack, with fewer requests than there are trees.
    const trees = [...repo.index.blobs()].filter((b) => b.type === "tree");
    const treePacks = new Set(trees.map((b) => b.packId));
    expect(loads.length).toBeGreaterThan(0);
    expect(loads.every((p) => treePacks.has(p))).toBe(true);
    expect(loads.length).toBeLessThanOrEqual(trees.length);
    await repo.close();
  });

  it("entries() restores byte for byte what `restic restore` restores (content, modes, mtimes, links)", async () => {
    const repo = await open();
    const ours = path.join(work, "restore-ours");
    const { check, result } = await restoreOurs(repo, snapshotId, ours);
    await repo.close();
    const theirs = path.join(work, "restore-restic");
    await restic(["restore", snapshotId, "--target", theirs], { repo: repoPath, password: PASSWORD });
    const a = await readTreeDetailed(ours, { emptyDirs: true });
    const b = await readTreeDetailed(theirs, { emptyDirs: true });
    delete b[Object.keys(b).find((k) => k.endsWith("/a-fifo"))!]; // a fifo is not restored by us (refused, reported)
    // mtimes to the millisecond (the writer sets them from a Date; restic to the nanosecond).
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const [k, v] of Object.entries(a)) {
      expect({ k, ...v, mtimeMs: 0 }).toEqual({ k, ...b[k]!, mtimeMs: 0 });
      expect(Math.abs(v.mtimeMs - b[k]!.mtimeMs)).toBeLessThan(1.001);
    }
    expect(result.refused.map((r) => r.path.split("/").pop())).toEqual(["a-fifo"]);
    expect(result.files).toBe(Object.values(a).filter((e) => e.type === "file").length);
    // Blobs shared by big.bin and its copy were read once when both were in the read-ahead window.
    expect(check.storedBytes).toBeLessThan(2 * 12 * 1024 * 1024);
  });

  it("reads ahead inside a file larger than the window: each blob taken makes room for the next read", async () => {
    const repo = await open();
    let loaded = 0;
    let reading = 0;
    const load = repo.storage.load.bind(repo.storage);
    repo.storage.load = async (...args: Parameters<typeof load>) => {
      reading++;
      try {
        const buf = await load(...args);
        if (args[0] === "data") loaded += buf.length;
        return buf;
      } finally {
        reading--;
      }
    };
    // A slow writer: after each chunk, every read the fetcher starts meanwhile has landed.
    const settle = async () => {
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((r) => setTimeout(r, 5));
        quiet = reading === 0 ? quiet + 1 : 0;
      }
    };
    const ahead: number[] = [];
    const reader = openRepositorySnapshot(repo, snapshotId, { aheadBytes: 2 << 20, maxReadBytes: 1 << 20, decodeOnWorker: false });
    await reader.entries(async (e) => {
      if (!e.path.endsWith("/big.bin")) return;
      let consumed = 0;
      for await (const chunk of e.content!()) {
        consumed += chunk.length;
        await settle();
        ahead.push(loaded >= e.size ? Number.POSITIVE_INFINITY : loaded - consumed); // all of it read: nothing left to read ahead
      }
    });
    await repo.close();
    // 12 MiB in chunks of 0.5–8 MiB. After each chunk of the file's first half taken, more had been read than taken
    // (the next chunks). Were a file's blobs let go only at its end, the read-ahead would stop once the first 2 MiB
    // were taken: every later chunk read only when asked for, ~18 KB ahead of the writer. (Towards the end the window
    // fills with the chunks copy-of-big.bin still holds, the same blobs: those are read ahead no further.)
    expect(ahead.length).toBeGreaterThanOrEqual(5);
    for (const a of ahead.slice(0, Math.ceil(ahead.length / 2))) expect(a, ahead.join(" ")).toBeGreaterThan(256 << 10);
  });

  it("a selection reads only the selected files' data", async () => {
    const repo = await open();
    const target = path.join(work, "restore-some");
    const only = (p: string) => p.endsWith("/notes/n0.md") || p.split("/").slice(-2).join("/") === "notes/n0.md";
    const { check, result } = await restoreOurs(repo, snapshotId, target, only);
    await repo.close();
    expect(result.files).toBe(1);
    const files = Object.keys(await readTreeDetailed(target));
    expect(files).toHaveLength(1);
    expect(files[0]!.endsWith("notes/n0.md")).toBe(true);
    // The trees and one small blob: far below the 12 MiB of big.bin.
    expect(check.storedBytes).toBeLessThan(1024 * 1024);
  });
});

describe("hostile and damaged repositories", () => {
  let hostile: Repository;
  let hostilePath: string;

  const node = (name: string | Uint8Array, extra: Partial<Node>): Node => ({
    name: typeof name === "string" ? Buffer.from(name) : name,
    type: "file",
    mode: 0o644,
    mtime: { sec: 1_700_000_000, nsec: 0, offset: 0 },
    atime: { sec: 1_700_000_000, nsec: 0, offset: 0 },
    ctime: { sec: 1_700_000_000, nsec: 0, offset: 0 },
    uid: 0,
    gid: 0,
    content: null,
    ...extra,
  });

  async function snapshotOf(repo: Repository, nodes: Node[]): Promise<string> {
    const tree = await repo.saveBlob("tree", encodeTree(nodes));
    await repo.flush();
    return repo.saveUnpacked("snapshots", encodeSnapshot({ time: { sec: 1_700_000_000, nsec: 0, offset: 0 }, tree: tree.id, paths: ["/x"], hostname: "h" }));
  }

  beforeAll(async () => {
    hostilePath = path.join(work, "hostile");
    hostile = await Repository.init(new DirStorage(hostilePath), PASSWORD, { kdf: FAST_KDF });
  });
  afterAll(() => hostile.close());

  it("never joins a name holding '/' or being '.'/'..' into a path: reported, refused, nothing written outside", async () => {
    const data = await hostile.saveBlob("data", Buffer.from("payload\n"));
    const inner = await hostile.saveBlob("tree", encodeTree([node("inside.txt", { content: [data.id], size: 8n })]));
    const id = await snapshotOf(hostile, [
      node("..", { type: "dir", mode: 0o755 | 2 ** 31, subtree: inner.id }),
      node("ok.txt", { content: [data.id], size: 8n }),
      node("x/../../escape.txt", { content: [data.id], size: 8n }),
      node(".", { type: "dir", mode: 0o755 | 2 ** 31, subtree: inner.id }),
    ]);
    const nodes: SnapshotNode[] = [];
    await openRepositorySnapshot(hostile, id).nodes!(async (n) => void nodes.push(n));
    expect(nodes.map((n) => [n.path, n.problem])).toEqual([
      ['"."', 'invalid name "."'],
      ['".."', 'invalid name ".."'],
      ["ok.txt", undefined],
      ['"x/../../escape.txt"', 'invalid name (holds "/")'],
    ]);
    const parent = path.join(work, "hostile-restore");
    const target = path.join(parent, "target");
    await mkdir(target, { recursive: true });
    const { stats } = await restoreReader(openRepositorySnapshot(hostile, id), target);
    expect(stats.refused.map((r) => r.reason).sort()).toEqual(['invalid name "."', 'invalid name ".."', 'invalid name (holds "/")']);
    expect(await readdir(target)).toEqual(["ok.txt"]);
    expect((await readdir(parent)).sort()).toEqual(["target"]);
  });

  it("a blob whose content does not hash to its ID fails the read, naming the blob and its pack", async () => {
    const fakeId = hashId(Buffer.from("what the tree claims"));
    const pack = new PackWriter(hostile.key, "data");
    pack.add(fakeId, seal(hostile.key, Buffer.from("something else")), 0);
    const done = pack.finalize();
    await hostile.storage.save("data", done.id, done.parts);
    await hostile.saveIndexFile([{ id: done.id, blobs: done.blobs }]);
    hostile.index.addPack(done.id, done.blobs);
    const id = await snapshotOf(hostile, [node("forged.txt", { content: [fakeId], size: 14n })]);
    const err = await openRepositorySnapshot(hostile, id)
      .entries(async (e) => {
        for await (const _ of e.content());
      })
      .then(() => undefined, (e: unknown) => e as IntegrityError);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err!.message).toContain(`data blob ${fakeId} in pack data/${done.id.slice(0, 2)}/${done.id} does not hash to its ID`);
    expect(err!.message).toContain(`snapshot ${id.slice(0, 8)}`);
  });

  it("a missing tree fails the walk, naming the tree and the folder that needs it", async () => {
    const missing = hashId(Buffer.from("no such tree"));
    const id = await snapshotOf(hostile, [node("sub", { type: "dir", mode: 0o755 | 2 ** 31, subtree: missing })]);
    const err = await openRepositorySnapshot(hostile, id)
      .nodes!(async () => {})
      .then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err!.message).toMatch(new RegExp(`tree blob ${missing} is not in the repository's index.*folder sub`));
    // entries() fails too, and the restore writes nothing a caller would take for complete.
    await expect(openRepositorySnapshot(hostile, id).entries(async () => {})).rejects.toThrow(/not in the repository's index/);
  });

  it("a folder turned down (restore --path) is visited, its tree never read: a missing one does not fail the walk", async () => {
    const missing = hashId(Buffer.from("another tree that is not there"));
    const data = await hostile.saveBlob("data", Buffer.from("kept\n"));
    const kept = await hostile.saveBlob("tree", encodeTree([node("k.txt", { content: [data.id], size: 5n })]));
    const id = await snapshotOf(hostile, [
      node("elsewhere", { type: "dir", mode: 0o755 | 2 ** 31, subtree: missing }),
      node("kept", { type: "dir", mode: 0o755 | 2 ** 31, subtree: kept.id }),
    ]);
    const descend = (n: SnapshotNode) => n.path !== "elsewhere";
    const nodes: string[] = [];
    await openRepositorySnapshot(hostile, id).nodes!(async (n) => void nodes.push(n.path), { descend });
    expect(nodes).toEqual(["elsewhere", "kept", "kept/k.txt"]);
    const entries: string[] = [];
    await openRepositorySnapshot(hostile, id).entries(async (e) => {
      entries.push(e.path);
      for await (const _ of e.content());
    }, { descend });
    expect(entries).toEqual(["elsewhere", "kept", "kept/k.txt"]);
    // Without it the walk needs that tree.
    await expect(openRepositorySnapshot(hostile, id).nodes!(async () => {})).rejects.toThrow(/not in the repository's index.*folder elsewhere/);
  });

  it("a flipped byte in a restic pack is named by the read (and restic's own check fails on it)", async () => {
    const copy = path.join(work, "repo-tampered");
    await cp(repoPath, copy, { recursive: true });
    const repo = await Repository.open(new DirStorage(copy), PASSWORD);
    await repo.loadIndex();
    const blob = [...repo.index.blobs()].filter((b) => b.type === "data").sort((a, b) => b.length - a.length)[0]!;
    const file = path.join(copy, "data", blob.packId.slice(0, 2), blob.packId);
    const bytes = await readFile(file);
    bytes[blob.offset + 100]! ^= 1;
    await rm(file);
    await writeFile(file, bytes);
    const err = await openRepositorySnapshot(repo, snapshotId)
      .entries(async (e) => {
        for await (const _ of e.content());
      })
      .then(() => undefined, (e: unknown) => e as Error);
    await repo.close();
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err!.message).toContain(`in pack data/${blob.packId.slice(0, 2)}/${blob.packId} fails authentication`);
    expect((await restic(["check", "--read-data"], { repo: copy, password: PASSWORD, check: false })).code).not.toBe(0);
  });
});
