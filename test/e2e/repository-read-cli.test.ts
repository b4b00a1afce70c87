// A restic repository in the backup folder, opened through the CLI (local backend, `rclone serve restic --stdio`):
// restic's own snapshots are listed beside archive snapshots of the same folder, browsed (ls, find, diff — from the
// trees), verified (structure, --read-data), restored byte for byte as `restic restore` does, and exported to a file
// the standard tools open. restic 0.14 is the oracle throughout.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, watch } from "node:fs";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirStorage } from "../../src/backup/formats/repository/backend-dir.js";
import { walkTrees } from "../../src/backup/formats/repository/reader.js";
import { Repository } from "../../src/backup/formats/repository/repository.js";
import { decodeSnapshot } from "../../src/backup/formats/repository/snapshot-doc.js";
import { randomBytesSeeded, readTree, readTreeDetailed, tempDir } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { restic } from "../support/restic-oracle.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "shared repository passphrase 5d1";

function ok(res: { code: number | null; stdout: string; stderr: string }): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

interface Listed {
  id: string;
  short_id: string;
  format: string;
  host: string;
  paths: string[];
}

describe("a restic repository in the backup folder, through the CLI", () => {
  let server: StartedBackend;
  let w: World;
  let repoDir: string;
  let source: string;
  let snaps: { id: string; short_id: string }[];

  beforeAll(async () => {
    server = await backend("local").start();
    const prefix = `repo-cli-${randomBytes(3).toString("hex")}`;
    w = await makeWorld({ backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 10 } });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    repoDir = path.join(server.server.rootDir, prefix);
    source = await tempDir("restic-src");
    await mkdir(path.join(source, "notes"), { recursive: true });
    for (let i = 0; i < 40; i++) await writeFile(path.join(source, "notes", `n${i}.md`), `note ${i}\n`.repeat(i + 1));
    await writeFile(path.join(source, "big.bin"), randomBytesSeeded(3 * 1024 * 1024, 9));
    await writeFile(path.join(source, "gone.txt"), "to be removed\n");
    await restic(["init", "--repository-version", "2"], { repo: repoDir, password: PASS });
    await restic(["backup", "--host", "restic-host", source], { repo: repoDir, password: PASS });
    await writeFile(path.join(source, "notes", "n0.md"), "changed\n");
    await writeFile(path.join(source, "added.md"), "new file\n");
    await rm(path.join(source, "gone.txt"));
    await restic(["backup", "--host", "restic-host", source], { repo: repoDir, password: PASS });
    snaps = (JSON.parse((await restic(["snapshots", "--json"], { repo: repoDir, password: PASS })).stdout) as { id: string; short_id: string }[]).map((s) => ({ id: s.id, short_id: s.short_id }));
    await writeFile(path.join(w.workspace, "mine.md"), "an archive snapshot beside the repository\n");
    ok(await w.cli("backup", "now", "-q"));
  }, 300_000);
  afterAll(async () => {
    await w?.cleanup();
    await server?.stop();
  });

  it("lists restic's snapshots (their own group) beside the archive snapshots of the same folder", async () => {
    const mine = JSON.parse(ok(await w.cli("backup", "list", "--json"))) as { snapshots: Listed[]; hidden: number };
    expect(mine.snapshots.map((s) => s.format)).toEqual(["archive"]);
    expect(mine.hidden).toBe(2);
    const all = JSON.parse(ok(await w.cli("backup", "list", "--all", "--json"))) as { snapshots: Listed[] };
    const repo = all.snapshots.filter((s) => s.format === "repository");
    expect(repo.map((s) => s.id).sort()).toEqual(snaps.map((s) => s.id).sort());
    expect(repo[0]).toMatchObject({ host: "restic-host", paths: [source] });
    expect(JSON.parse(ok(await w.cli("backup", "list", "--host", "restic-host", "--json"))).snapshots).toHaveLength(2);
  });

  it("ls lists exactly what `restic ls` lists, from the trees (no whole-read note)", async () => {
    const [a] = snaps;
    const res = await w.cli("backup", "ls", a!.short_id);
    const ours = ok(res).trim().split("\n");
    const theirs = (await restic(["ls", a!.id], { repo: repoDir, password: PASS })).stdout.trim().split("\n").filter((l) => l.startsWith("/")).map((l) => l.slice(1));
    expect(ours).toEqual(theirs);
    expect(res.stderr).not.toMatch(/read the whole snapshot/);
    const json = ok(await w.cli("backup", "ls", a!.short_id, "--json")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json[0]).toMatchObject({ struct_type: "snapshot", id: a!.id, format: "repository", read_whole_snapshot: false });
    const sub = ok(await w.cli("backup", "ls", a!.short_id, `${source}/notes`, "-q")).trim().split("\n");
    expect(sub).toHaveLength(41);
  });

  it("find searches restic's snapshots from their trees; diff agrees with `restic diff`", async () => {
    const found = JSON.parse(ok(await w.cli("backup", "find", "added.md", "--all", "--json"))) as { hits: { id: string; matches: { path: string }[] }[]; read_whole: number };
    expect(found.hits.map((h) => h.id)).toEqual([snaps[1]!.id]);
    const [a, b] = snaps;
    const diff = JSON.parse(ok(await w.cli("backup", "diff", a!.short_id, b!.short_id, "--json"))) as { compared_by: string; changes: { path: string; change: string }[] };
    expect(diff.compared_by).toBe("trees");
    const theirs = (await restic(["diff", a!.id, b!.id], { repo: repoDir, password: PASS })).stdout
      .split("\n")
      .map((l) => /^([+\-MTU])\s+(\/.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => `${m[1]} ${m[2]!.slice(1).replace(/\/$/, "")}`)
      .sort();
    expect(diff.changes.map((c) => `${c.change} ${c.path}`).sort()).toEqual(theirs);
  });

  it("verify checks the structure by default and the data with --read-data; a tampered pack fails, named", async () => {
    const [a] = snaps;
    const structure = JSON.parse(ok(await w.cli("backup", "verify", "--snapshot", a!.short_id, "--json"))) as { ok: boolean; readData: boolean; files: number }[];
    expect(structure[0]).toMatchObject({ ok: true, readData: false, files: 42 });
    const data = JSON.parse(ok(await w.cli("backup", "verify", "--snapshot", a!.short_id, "--read-data", "--json"))) as { ok: boolean; readData: boolean }[];
    expect(data[0]).toMatchObject({ ok: true, readData: true });
    // A repository snapshot is no one stored object: the line says which packs were read, not "… in 0 B stored".
    expect(ok(await w.cli("backup", "verify", "--snapshot", a!.short_id, "--read-data"))).toMatch(/^ok .*: 42 files, [\d.]+ [KM]?i?B of file data, every pack it uses read back and checked$/m);
    const sub = ok(await w.cli("backup", "verify", "--snapshot", a!.short_id, "--read-data", "--subset", "50%"));
    expect(sub).toMatch(/^ok .*: 42 files, .* of file data, a random 50% of the packs read back and checked$/m);
    expect(sub).not.toMatch(/stored/);
  });

  it("restore writes what `restic restore` writes; export opens with age, zstd and tar", async () => {
    const [, b] = snaps;
    const ours = path.join(await tempDir("repo-restore"), "out");
    ok(await w.cli("backup", "restore", "--snapshot", b!.short_id, "--to", ours, "-q"));
    const theirs = await tempDir("restic-restore");
    await restic(["restore", b!.id, "--target", theirs], { repo: repoDir, password: PASS });
    expect(await readTree(ours)).toEqual(await readTree(theirs));
    const modes = async (d: string) => Object.fromEntries(Object.entries(await readTreeDetailed(d)).map(([k, v]) => [k, v.mode]));
    expect(await modes(ours)).toEqual(await modes(theirs));

    const out = await tempDir("repo-export");
    const file = path.join(out, "cold.tar.zst.age");
    const r = JSON.parse(ok(await w.cli("backup", "export", "--snapshot", b!.short_id, "--to", file, "--json"))) as { files: number; format: string };
    expect(r).toMatchObject({ files: 42, format: "repository" });
    const plain = path.join(out, "plain.tar.zst");
    execFileSync("bash", ["-c", `(sleep 1; printf '%s\\n' "$P") | script -qec "age -d -o '${plain}' '${file}'" /dev/null > /dev/null`], { env: { ...process.env, P: PASS } });
    const x = path.join(out, "x");
    await mkdir(x);
    execFileSync("bash", ["-c", `zstd -dc '${plain}' | tar -x -C '${x}'`]);
    expect(await readTree(x)).toEqual(await readTree(theirs));
  });

  it("restore --dry-run lists from the trees; --path restores only the selected files", async () => {
    const [, b] = snaps;
    const rel = `${source.slice(1)}/notes`;
    const dry = JSON.parse(ok(await w.cli("backup", "restore", "--snapshot", b!.short_id, "--dry-run", "--path", rel, "--json"))) as { entries: string[]; files: number };
    expect(dry.files).toBe(40);
    expect(dry.entries).toContain(`${rel}/n0.md`);
    const out = path.join(await tempDir("repo-restore-path"), "out");
    ok(await w.cli("backup", "restore", "--snapshot", b!.short_id, "--path", `${rel}/n1*`, "--to", out, "-q"));
    expect(Object.keys(await readTree(out)).sort()).toEqual([`${rel}/n1.md`, ...Array.from({ length: 10 }, (_, i) => `${rel}/n1${i}.md`)].sort());
    // The folders made before the files (the snapshot's trees list more) are only those the selection leads through.
    const folders = (await readdir(out, { recursive: true, withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => path.relative(out, path.join(d.parentPath, d.name)));
    expect(folders.sort()).toEqual(rel.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/")).sort());
  });

  it("--path and ls PATH read only the trees of folders they reach: a damaged folder elsewhere does not stop them", async () => {
    const [, b] = snaps;
    const rel = source.slice(1);
    // A byte flipped inside the tree of `notes` (snapshot b's own: n0.md changed), flipped back at the end.
    const repo = await Repository.open(new DirStorage(repoDir), PASS);
    await repo.loadIndex();
    const root = decodeSnapshot(await repo.loadUnpacked("snapshots", b!.id)).tree;
    let notes: string | undefined;
    await walkTrees(repo, root, (wn) => void (wn.path === `${rel}/notes` && (notes = wn.node.subtree ?? undefined)));
    const loc = repo.index.lookup("tree", notes!)[0]!;
    await repo.close();
    const pack = path.join(repoDir, "data", loc.packId.slice(0, 2), loc.packId);
    const flip = async () => {
      const bytes = await readFile(pack);
      bytes[loc.offset + 20]! ^= 1;
      await chmod(pack, 0o600);
      await writeFile(pack, bytes);
    };
    await flip();
    // Earlier commands cached the tree packs whole while they were sound (a cached copy serves later walks): this
    // machine forgets them, as a fresh one would, so the damaged pack is what it reads.
    const dropTreeCache = async () => {
      for (const e of await readdir(w.stateDir, { withFileTypes: true, recursive: true })) if (e.isDirectory() && e.name === "tree-packs") await rm(path.join(e.parentPath, e.name), { recursive: true, force: true });
    };
    await dropTreeCache();
    try {
      const out = path.join(await tempDir("repo-restore-elsewhere"), "out");
      ok(await w.cli("backup", "restore", "--snapshot", b!.short_id, "--path", `${rel}/big.bin`, "--to", out, "-q"));
      expect((await readFile(path.join(out, rel, "big.bin"))).equals(await readFile(path.join(source, "big.bin")))).toBe(true);
      const dry = JSON.parse(ok(await w.cli("backup", "restore", "--snapshot", b!.short_id, "--dry-run", "--path", `${rel}/*.md`, "--json"))) as { entries: string[] };
      expect(dry.entries).toEqual([`${rel}/added.md`]);
      // ls of the folder lists `notes` without reading its tree; ls inside it needs that tree.
      const listed = ok(await w.cli("backup", "ls", b!.short_id, rel, "-q")).trim().split("\n");
      expect(listed).toContain(`${rel}/notes`);
      expect(listed).toContain(`${rel}/big.bin`);
      const inside = await w.cli("backup", "ls", b!.short_id, `${rel}/notes`);
      expect(inside.code, inside.stderr).toBe(1);
      expect(inside.stderr).toContain(`tree blob ${notes}`);
      // Where the selection needs that tree, the restore fails naming it, and leaves nothing.
      const bad = path.join(await tempDir("repo-restore-damaged"), "out");
      const res = await w.cli("backup", "restore", "--snapshot", b!.short_id, "--path", `${rel}/notes/n1.md`, "--to", bad);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toContain(`tree blob ${notes}`);
      expect(existsSync(bad)).toBe(false);
    } finally {
      await flip();
      await dropTreeCache();
    }
  });

  it("an exclusive lock (a prune running) makes verify and restore wait their turn: exit 3 naming the holder; ls still answers", async () => {
    const [a] = snaps;
    const repo = await Repository.open(new DirStorage(repoDir), PASS);
    const lock = await repo.lock({ exclusive: true });
    try {
      const res = await w.cli("backup", "verify", "--snapshot", a!.short_id);
      expect(res.code).toBe(3);
      expect(res.stderr).toMatch(/lock/i);
      expect(res.stderr).toContain(`locked exclusively by PID ${process.pid}`);
      // A restore takes its shared lock while it walks the trees for the folders: refused all the same, nothing
      // written, and its own lock file gone.
      const out = path.join(await tempDir("repo-restore-locked"), "out");
      const restored = await w.cli("backup", "restore", "--snapshot", a!.short_id, "--to", out);
      expect(restored.code).toBe(3);
      expect(restored.stderr).toContain(`locked exclusively by PID ${process.pid}`);
      expect(existsSync(out)).toBe(false);
      expect(await readdir(path.join(repoDir, "locks"))).toHaveLength(1); // the prune's
      ok(await w.cli("backup", "ls", a!.short_id, "-q"));
    } finally {
      await lock.release();
      await repo.close();
    }
    ok(await w.cli("backup", "verify", "--snapshot", a!.short_id, "-q"));
  });

  it("an exclusive lock that races a restore's lock (a prune starting) stops the restore in its second look: exit 3, nothing left", async () => {
    const [a] = snaps;
    const repo = await Repository.open(new DirStorage(repoDir), PASS);
    const locks = path.join(repoDir, "locks");
    let raced: string | undefined;
    // The moment the restore's lock file is there, another host's exclusive lock (a prune starting) appears too.
    const watcher = watch(locks, () => {
      if (raced !== undefined) return;
      raced = "";
      const doc = { time: new Date().toISOString(), exclusive: true, hostname: "racing-prune-host", username: "prune", pid: 4242 };
      void repo.saveUnpacked("locks", JSON.stringify(doc)).then((id) => (raced = id));
    });
    try {
      const out = path.join(await tempDir("repo-restore-raced"), "out");
      const res = await w.cli("backup", "restore", "--snapshot", a!.short_id, "--to", out);
      expect(raced, "the restore stored a lock").toBeDefined();
      expect(res.code, res.stderr).toBe(3);
      expect(res.stderr).toContain("locked exclusively by PID 4242 on racing-prune-host");
      expect(existsSync(out)).toBe(false);
    } finally {
      watcher.close();
      if (raced) await rm(path.join(locks, raced));
      await repo.close();
    }
    expect((await readdir(locks)).sort()).toEqual([]);
  });

  it("a restore lets go of its lock whether it read data or failed before (a target that is not empty)", async () => {
    const [a] = snaps;
    const locks = () => readdir(path.join(repoDir, "locks")).catch(() => [] as string[]);
    const out = path.join(await tempDir("repo-restore-lock"), "out");
    ok(await w.cli("backup", "restore", "--snapshot", a!.short_id, "--to", out, "-q"));
    expect(await locks()).toEqual([]);
    const busy = await tempDir("repo-restore-busy");
    await writeFile(path.join(busy, "keep.txt"), "mine");
    const refused = await w.cli("backup", "restore", "--snapshot", a!.short_id, "--to", busy);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not empty/);
    expect(await locks()).toEqual([]);
    expect(await readdir(busy)).toEqual(["keep.txt"]);
  });

  it("a tampered pack makes verify --read-data fail naming it (exit 1), as restic check does", async () => {
    const [a] = snaps;
    const packs = execFileSync("bash", ["-c", `ls -S '${repoDir}'/data/*/* | head -1`]).toString().trim();
    const bytes = await readFile(packs);
    bytes[100]! ^= 1;
    await rm(packs);
    await writeFile(packs, bytes);
    const res = await w.cli("backup", "verify", "--snapshot", a!.short_id, "--read-data");
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain(path.basename(packs));
    expect((await restic(["check", "--read-data"], { repo: repoDir, password: PASS, check: false })).code).not.toBe(0);
    // A restore decodes its blobs on a worker thread: the damaged blob still fails it, named, and leaves nothing.
    const out = path.join(await tempDir("repo-restore-tampered"), "out");
    const restored = await w.cli("backup", "restore", "--snapshot", a!.short_id, "--to", out);
    expect(restored.code).toBe(1);
    expect(restored.stderr).toContain(path.basename(packs));
    expect(restored.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(out)).toBe(false);
  });
});
