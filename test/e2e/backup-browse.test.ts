// The browsing commands through the CLI on archive snapshots (local backend): `backup ls` (text, -l, --json, PATH,
// --recursive), `backup find`, `backup diff`, `backup export` (opened with the real age, zstd and tar), and
// `backup verify --read-data --subset`. Archive snapshots have no separate trees: each command reads them whole and
// says so on stderr.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, stat, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTree, tempDir } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "browse passphrase 77c1";
const T = new Date("2026-01-02T03:04:05Z");

function ok(res: { code: number | null; stdout: string; stderr: string }): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

describe("browsing archive snapshots through the CLI (local backend)", () => {
  let server: StartedBackend;
  let w: World;
  let first: { snapshot: string; short_id: string };
  let second: { snapshot: string; short_id: string };

  beforeAll(async () => {
    server = await backend("local").start();
    w = await makeWorld({ backup: { ...server.block, prefix: `browse-${randomBytes(3).toString("hex")}`, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 10 } });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    await mkdir(path.join(w.workspace, "memory", "2026"), { recursive: true });
    await writeFile(path.join(w.workspace, "notes.md"), "# notes\n");
    await writeFile(path.join(w.workspace, "memory", "2026", "jan.md"), "january\n");
    await writeFile(path.join(w.workspace, "memory", "todo.txt"), "todo\n");
    await writeFile(path.join(w.workspace, "gone.txt"), "soon removed\n");
    await writeFile(path.join(w.workspace, "data.bin"), randomBytes(200_000));
    await symlink("notes.md", path.join(w.workspace, "link"));
    for (const f of ["notes.md", "memory/2026/jan.md", "memory/todo.txt", "gone.txt", "data.bin"]) await utimes(path.join(w.workspace, f), T, T);
    first = JSON.parse(ok(await w.cli("backup", "now", "--json"))) as typeof first;
    // Changes for diff: one added, one removed, one modified, one changed type.
    await writeFile(path.join(w.workspace, "memory", "feb.md"), "february\n");
    await unlink(path.join(w.workspace, "gone.txt"));
    await writeFile(path.join(w.workspace, "notes.md"), "# notes, edited and longer\n");
    await unlink(path.join(w.workspace, "link"));
    await writeFile(path.join(w.workspace, "link"), "now a file\n");
    second = JSON.parse(ok(await w.cli("backup", "now", "--json"))) as typeof second;
  }, 180_000);
  afterAll(async () => {
    await w?.cleanup();
    await server?.stop();
  });

  it("ls lists every entry, -l like restic's long format, and says the archive was read whole", async () => {
    const res = await w.cli("backup", "ls", first.short_id);
    const lines = ok(res).trim().split("\n");
    expect(lines).toEqual(expect.arrayContaining(["workspace", "workspace/notes.md", "workspace/memory", "workspace/memory/2026/jan.md", "workspace/link", "workspace/data.bin"]));
    expect(res.stderr).toMatch(/read the whole snapshot \(the archive format keeps no separate file tree/);
    const long = ok(await w.cli("backup", "ls", first.short_id, "-l", "-q")).trim().split("\n");
    const notes = long.find((l) => l.endsWith(" workspace/notes.md"))!;
    expect(notes).toMatch(/^-rw-r--r-- +8 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d workspace\/notes\.md$/);
    expect(long.find((l) => l.includes("workspace/link"))).toMatch(/^lrwxrwxrwx .* workspace\/link -> notes\.md$/);
    expect(long.find((l) => / workspace\/memory$/.test(l))).toMatch(/^d/);
    // The archive stores every folder ahead of the files (a restore makes them all first), parents before children.
    const kinds = long.map((l) => l[0]);
    expect(kinds.lastIndexOf("d")).toBe(kinds.filter((k) => k === "d").length - 1);
    expect(long.slice(0, 3).map((l) => l.split(" ").pop())).toEqual(["workspace", "workspace/memory", "workspace/memory/2026"]);
  });

  it("ls PATH lists the folder and its direct entries, --recursive everything below; an unknown path is exit 2", async () => {
    const direct = ok(await w.cli("backup", "ls", first.short_id, "/workspace/memory/", "-q")).trim().split("\n");
    expect(direct).toEqual(["workspace/memory", "workspace/memory/2026", "workspace/memory/todo.txt"]);
    const all = ok(await w.cli("backup", "ls", first.short_id, "workspace/memory", "--recursive", "-q")).trim().split("\n");
    expect(all).toEqual(["workspace/memory", "workspace/memory/2026", "workspace/memory/2026/jan.md", "workspace/memory/todo.txt"]);
    const none = await w.cli("backup", "ls", "latest", "workspace/nope");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/workspace\/nope.*is not in snapshot/);
  });

  it("ls --json is one object per line: the snapshot, then restic-shaped nodes", async () => {
    const lines = ok(await w.cli("backup", "ls", first.short_id, "--json")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ struct_type: "snapshot", short_id: first.short_id, format: "archive", read_whole_snapshot: true });
    const node = lines.find((l) => l.path === "workspace/memory/2026/jan.md")!;
    expect(node).toMatchObject({ struct_type: "node", name: "jan.md", type: "file", size: 8, mode: 0o644, permissions: "-rw-r--r--", mtime: T.toISOString() });
    expect(lines.find((l) => l.path === "workspace/link")).toMatchObject({ type: "symlink", linktarget: "notes.md" });
  });

  it("find matches names (or whole paths with a /) across the group's snapshots, newest first", async () => {
    const r = JSON.parse(ok(await w.cli("backup", "find", "*.md", "--json", "-q"))) as { hits: { short_id: string; matches: { path: string }[] }[]; searched: number; read_whole: number };
    expect(r.searched).toBe(2);
    expect(r.read_whole).toBe(2);
    expect(r.hits.map((h) => h.short_id)).toEqual([second.short_id, first.short_id]);
    expect(r.hits[0]!.matches.map((m) => m.path).sort()).toEqual(["workspace/memory/2026/jan.md", "workspace/memory/feb.md", "workspace/notes.md"]);
    expect(r.hits[1]!.matches.map((m) => m.path).sort()).toEqual(["workspace/memory/2026/jan.md", "workspace/notes.md"]);
    const text = ok(await w.cli("backup", "find", "workspace/memory/**/*.md", "-q"));
    expect(text).toContain(`found 2 in snapshot ${second.short_id}`);
    expect(text).toContain("  workspace/memory/feb.md");
    expect(text).toMatch(/3 match\(es\) in 2 of 2 snapshot\(s\) searched/);
    expect(ok(await w.cli("backup", "find", "GONE.TXT", "-i", "-q"))).toContain(`found 1 in snapshot ${first.short_id}`);
    expect(ok(await w.cli("backup", "find", "nothing-like-this", "-q"))).toMatch(/no match in 2 snapshot\(s\) searched/);
  });

  it("diff shows added, removed, modified and type changes with sizes", async () => {
    const r = JSON.parse(ok(await w.cli("backup", "diff", first.short_id, second.short_id, "--json", "-q"))) as {
      compared_by: string;
      changes: { path: string; change: string }[];
      summary: { added: { files: number }; removed: { files: number }; modified: { files: number }; type_changed: number };
    };
    expect(r.compared_by).toBe("content");
    expect(r.changes.map((c) => `${c.change} ${c.path}`)).toEqual(["- workspace/gone.txt", "T workspace/link", "+ workspace/memory/feb.md", "M workspace/notes.md"]);
    expect(r.summary).toMatchObject({ added: { files: 1 }, removed: { files: 1 }, modified: { files: 1 }, type_changed: 1 });
    const text = ok(await w.cli("backup", "diff", first.short_id, "latest", "-q"));
    expect(text).toContain("M    workspace/notes.md  (8 B → 27 B)");
    expect(text).toContain("T    workspace/link  (symlink → file)");
    expect(ok(await w.cli("backup", "diff", "latest", "latest", "-q"))).toMatch(/added: +0 files/);
  });

  it("export writes one tar.zst.age that the standard age, zstd and tar open; an existing file needs --force", async () => {
    const out = await tempDir("export");
    const file = path.join(out, "cold.tar.zst.age");
    const r = JSON.parse(ok(await w.cli("backup", "export", "--snapshot", first.short_id, "--to", file, "--json", "-q"))) as { to: string; files: number; stored: { size: number; sha256: string }; encryption: string };
    expect(r.to).toBe(file);
    expect(r.files).toBe(5);
    expect((await stat(file)).size).toBe(r.stored.size);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // `age -d` reads a passphrase only from a terminal: typed into a pty with script(1).
    const plain = path.join(out, "plain.tar.zst");
    execFileSync("bash", ["-c", `(sleep 1; printf '%s\\n' "$P") | script -qec "age -d -o '${plain}' '${file}'" /dev/null > /dev/null`], { env: { ...process.env, P: PASS } });
    const untar = path.join(out, "x");
    await mkdir(untar);
    execFileSync("bash", ["-c", `zstd -dc '${plain}' | tar -x -C '${untar}'`]);
    const tree = await readTree(path.join(untar, "workspace"));
    expect(Object.keys(tree).sort()).toEqual(["data.bin", "gone.txt", "link", "memory/2026/jan.md", "memory/todo.txt", "notes.md"]);
    expect(await readFile(path.join(untar, "workspace", "memory", "2026", "jan.md"), "utf8")).toBe("january\n");
    expect(tree.link).toBe("symlink:notes.md");
    expect((await stat(path.join(untar, "workspace", "notes.md"))).mtime.toISOString()).toBe(T.toISOString());

    const again = await w.cli("backup", "export", "--snapshot", first.short_id, "--to", file);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists: choose another --to, or pass --force/);
    ok(await w.cli("backup", "export", "--snapshot", second.short_id, "--to", file, "--force", "-q"));
    expect((await readFileSafe(file)).length).toBeGreaterThan(0);

    const missing = await w.cli("backup", "export", "--to", path.join(out, "no", "such", "dir", "x.tar.zst.age"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });

  it("export to an rclone remote:path, and into a folder given as --to", async () => {
    const dest = `cloud-backup:${server.pathPrefix}cold-${randomBytes(3).toString("hex")}/snap.tar.zst.age`;
    const r = JSON.parse(ok(await w.cli("backup", "export", "--to", dest, "--json", "-q"))) as { to: string; remote: boolean; stored: { size: number } };
    expect(r.remote).toBe(true);
    expect(r.to).toBe(dest);
    const local = path.join(server.server.rootDir, dest.slice(dest.indexOf(":") + 1 + server.pathPrefix.length));
    expect((await stat(local)).size).toBe(r.stored.size);
    const folder = await tempDir("export-folder");
    const inFolder = JSON.parse(ok(await w.cli("backup", "export", "--to", folder, "--json", "-q"))) as { to: string };
    expect(path.dirname(inFolder.to)).toBe(folder);
    expect(path.basename(inFolder.to)).toMatch(new RegExp(`^workspace-sync-${second.short_id}-\\d{8}T\\d{6}Z\\.tar\\.zst\\.age$`));
    await rm(folder, { recursive: true, force: true });
  });

  it("verify reads archive snapshots whole with or without --read-data; --subset needs --read-data", async () => {
    const plain = JSON.parse(ok(await w.cli("backup", "verify", "--all", "--json", "-q"))) as { ok: boolean; readData: boolean; files: number }[];
    expect(plain.map((r) => [r.ok, r.readData])).toEqual([
      [true, true],
      [true, true],
    ]);
    const half = JSON.parse(ok(await w.cli("backup", "verify", "--all", "--read-data", "--subset", "50%", "--json", "-q"))) as { ok: boolean; files?: number }[];
    expect(half.filter((r) => r.files !== undefined)).toHaveLength(1);
    const bad = await w.cli("backup", "verify", "--subset", "10%");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--subset goes with --read-data/);
    const worse = await w.cli("backup", "verify", "--read-data", "--subset", "150%");
    expect(worse.code).toBe(2);
  });
});

async function readFileSafe(file: string): Promise<Buffer> {
  return readFile(file).catch(() => Buffer.alloc(0));
}

describe("export with age recipients (local backend)", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("needs the identity to read the snapshot, and writes a file only the identity opens", async () => {
    const keyDir = await tempDir("export-key");
    const keyFile = path.join(keyDir, "key.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
    const recipient = execFileSync("age-keygen", ["-y", keyFile]).toString().trim();
    const w = await makeWorld({ backup: { ...server.block, prefix: `exp-r-${randomBytes(3).toString("hex")}`, encrypt: true, recipients: [recipient], include: ["workspace"] } });
    try {
      await writeFile(path.join(w.workspace, "a.md"), "for the cold store\n");
      ok(await w.cli("backup", "now", "-q"));
      const file = path.join(keyDir, "cold.tar.zst.age");
      const refused = await w.cli("backup", "export", "--to", file);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--identity/);
      const r = JSON.parse(ok(await w.cli("backup", "export", "--to", file, "--identity", keyFile, "--json"))) as { encryption: string };
      expect(r.encryption).toBe("age (recipients)");
      const x = path.join(keyDir, "x");
      await mkdir(x);
      execFileSync("bash", ["-c", `age -d -i '${keyFile}' '${file}' | zstd -dc | tar -x -C '${x}'`]);
      expect(await readFile(path.join(x, "workspace", "a.md"), "utf8")).toBe("for the cold store\n");
    } finally {
      await w.cleanup();
    }
  });
});
