// Sync safety through the real CLI and rclone (issue 16's "wrong but not yet lost" items, issue 14's deletion guard):
// a resync keeps the remote versions it replaces and compares by hash; a dry run never claims a baseline; files
// dropped beside `_outbox/` are reported when they go to the trash; secret-looking files stay home; the deletion guard
// shows its list in a dry run and `--max-delete` lets one run through.
import { mkdir, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readTree, startServer, type TestServer } from "../helpers/servers.js";
import type { CliResult } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";

const worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
});

function ok(res: CliResult): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

async function world(sync: Record<string, unknown>): Promise<World & { nas: string; share: string }> {
  const w = await makeWorld();
  worlds.push(w);
  const nas = path.join(w.root, "nas");
  await mkdir(nas);
  await w.writeConfig({ sync: { provider: "local", remotePath: "share", local: { path: nas }, ...sync } });
  return Object.assign(w, { nas, share: path.join(nas, "share") });
}

async function put(root: string, files: Record<string, string>, mtime?: Date): Promise<void> {
  for (const [rel, body] of Object.entries(files)) {
    const p = path.join(root, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, body);
    if (mtime) await utimes(p, mtime, mtime);
  }
}

/** The trash folders of a local remote folder: stamp → relpath → content. */
async function trash(share: string): Promise<Record<string, string>> {
  const root = path.join(share, ".workspace-sync-trash");
  const out: Record<string, string> = {};
  for (const stamp of await readdir(root).catch(() => [] as string[])) {
    const tree = await readTree(path.join(root, stamp));
    for (const rel of Object.keys(tree)) out[rel] = await readFile(path.join(root, stamp, rel), "utf8");
  }
  return out;
}

describe("bisync --resync on rclone 1.60: nothing replaced without a copy, nothing unchanged that differs", () => {
  const OLD = new Date("2024-01-01T00:00:00Z");

  it("the dry run claims no baseline and changes nothing; the real one keeps the remote versions in the trash, compared by hash", async () => {
    const w = await world({ mode: "bisync" });
    await put(w.workspace, { "diff.txt": "the workspace version, longer\n", "onlyL.txt": "l\n" });
    await put(w.share, { "diff.txt": "remote\n", "onlyR.txt": "r\n" });
    // Same size, same time, other bytes: not "unchanged".
    await put(w.workspace, { "same.txt": "AAAA\n" }, OLD);
    await put(w.share, { "same.txt": "BBBB\n" }, OLD);
    const remoteBefore = await readTree(w.share);

    const dry = ok(await w.cli("sync", "--resync", "--dry-run"));
    expect(dry).not.toMatch(/baseline established/);
    expect(dry).toMatch(/resync: 1 file\(s\) to the remote, 1 to the workspace, 2 differing/);
    expect(dry).toMatch(/compared both sides by content \(hashes\)/);
    expect(dry).toMatch(/differing \(the workspace version wins; the remote versions would be kept in .*\.workspace-sync-trash\/ for 7 day\(s\)\): diff\.txt, same\.txt/);
    expect(await readTree(w.share)).toEqual(remoteBefore);
    const after = await w.cli("sync");
    expect(after.code, "no baseline was established").toBe(1);
    expect(after.stderr).toMatch(/needs a baseline/);

    const real = ok(await w.cli("sync", "--resync", "--yes"));
    expect(real).toMatch(/baseline established/);
    expect(real).toMatch(/remote versions are kept in local:.*\.workspace-sync-trash\/\d{8}T\d{6}\.\d{3}Z for 7 day\(s\)/);
    expect(await readFile(path.join(w.share, "diff.txt"), "utf8")).toBe("the workspace version, longer\n");
    expect(await readFile(path.join(w.share, "same.txt"), "utf8")).toBe("AAAA\n");
    expect(await readFile(path.join(w.workspace, "onlyR.txt"), "utf8")).toBe("r\n");
    expect(await trash(w.share)).toEqual({ "diff.txt": "remote\n", "same.txt": "BBBB\n" });
  });

  describe("on a remote without hashes (webdav)", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer("webdav");
    });
    afterAll(async () => {
      await server?.dispose();
    });

    it("the preview says that files of the same size and time are not compared by content", async () => {
      const w = await makeWorld({ sync: { ...server.configBlock, mode: "bisync", remotePath: "nohash" } });
      worlds.push(w);
      await put(w.workspace, { "a.txt": "a\n" });
      ok(await w.cli("sync", "--direction", "push"));
      const dry = ok(await w.cli("sync", "--resync", "--dry-run"));
      expect(dry).toMatch(/no hash in common with the workspace: files of the same size and time are taken as equal/);
      expect(dry).not.toMatch(/baseline established/);
    });
  });
});

describe("files dropped in the cloud beside the folder the sync reads from", () => {
  it("mailbox: moved to the trash at the next full compare, said in the summary and in status (what, where, until when)", async () => {
    const w = await world({ mode: "mailbox", fullSyncInterval: 0 });
    await put(w.workspace, { "notes.md": "n\n", "plan.md": "p\n", "todo.md": "t\n" });
    ok(await w.cli("sync"));
    await put(w.share, { "report.pdf": "dropped by the user\n" });
    const out = ok(await w.cli("sync"));
    expect(out).toMatch(
      /1 file\(s\) found only on the remote, not in the workspace, were moved to the trash local:.*\/share\/\.workspace-sync-trash\/\d{8}T[\d.]+Z and are kept until \d{4}-\d\d-\d\d \d\d:\d\d UTC: report\.pdf \(put files for the agent into _outbox\//,
    );
    expect(await trash(w.share)).toEqual({ "report.pdf": "dropped by the user\n" });
    const status = ok(await w.cli("status"));
    expect(status).toMatch(/trashed: +1 file\(s\) found only on the remote were moved to the trash on .* and are kept in local:.*\.workspace-sync-trash\/.* until .*: report\.pdf/);
    const json = JSON.parse(ok(await w.cli("status", "--json"))) as { sync: { foreignTrashed: { count: number; paths: string[]; keptIn: string; until: string }[] } };
    expect(json.sync.foreignTrashed).toHaveLength(1);
    expect(json.sync.foreignTrashed[0]).toMatchObject({ count: 1, paths: ["report.pdf"] });
    expect(Date.parse(json.sync.foreignTrashed[0]!.until) - Date.now()).toBeGreaterThan(6 * 86_400_000);
    // A file the workspace removed is not "found only on the remote".
    await rm(path.join(w.workspace, "notes.md"));
    await put(w.workspace, { "other.md": "o\n" });
    expect(ok(await w.cli("sync"))).not.toMatch(/found only on the remote/);
  });

  it("mirror with ingest: the message points at the ingest folder", async () => {
    const w = await world({ mode: "mirror", ingest: true, ingestPath: "drops", fullSyncInterval: 0 });
    await put(w.workspace, { "notes.md": "n\n" });
    ok(await w.cli("sync"));
    await put(w.share, { "misplaced.txt": "x\n" });
    expect(ok(await w.cli("sync", "--dry-run"))).toMatch(/would be moved to the trash .*: misplaced\.txt \(put files for the agent into drops\/\)/);
    expect(ok(await w.cli("sync"))).toMatch(/misplaced\.txt \(put files for the agent into drops\//);
  });
});

describe("secret-looking files stay in the workspace by default", () => {
  const FILES = {
    "notes.md": "n\n",
    ".ssh/id_ed25519": "k\n",
    ".ssh/config": "c\n",
    "id_rsa": "k\n",
    "id_rsa.pub": "p\n",
    "keys/id_ed25519_work": "k\n",
    "keys/id_ed25519_work.pub": "p\n",
    "certs/server.pem": "k\n",
    "certs/tls.key": "k\n",
    "certs/client.p12": "k\n",
    "certs/client.pfx": "k\n",
    ".netrc": "k\n",
    ".aws/credentials": "k\n",
    ".aws/config": "c\n",
  };

  it("excluded from the push unless sync.excludeSecrets is false", async () => {
    const w = await world({ mode: "mirror" });
    await put(w.workspace, FILES);
    ok(await w.cli("sync"));
    expect(Object.keys(await readTree(w.share)).sort()).toEqual([".aws/config", "id_rsa.pub", "keys/id_ed25519_work.pub", "notes.md"]);
    await w.writeConfig({ sync: { provider: "local", mode: "mirror", remotePath: "share", local: { path: w.nas }, excludeSecrets: false } });
    ok(await w.cli("sync"));
    expect(Object.keys(await readTree(w.share)).filter((p) => !p.startsWith(".workspace-sync-trash/")).sort()).toEqual(Object.keys(FILES).sort());
  });
});

describe("the deletion guard helps decide", () => {
  const six = { "a.txt": "a".repeat(100), "b.txt": "b".repeat(2048), "c/d.txt": "d\n", "e.txt": "e\n", "f.txt": "f\n", "keep.txt": "k\n" };

  it("one-way: the stop names --dry-run and --max-delete N; the dry run lists the deletions sorted with sizes and totals; --max-delete lets one run through", async () => {
    const w = await world({ mode: "mirror" });
    await put(w.workspace, six);
    ok(await w.cli("sync"));
    for (const f of ["a.txt", "b.txt", "c/d.txt", "e.txt", "f.txt"]) await rm(path.join(w.workspace, f));
    const remoteBefore = await readTree(w.share);

    const stopped = await w.cli("sync");
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/would delete 5 of 6 files \(83%\) on the remote, more than maxDelete \(50%\)/);
    expect(stopped.stderr).toMatch(/`workspace-sync sync --dry-run` lists them/);
    expect(stopped.stderr).toMatch(/`workspace-sync sync --max-delete 5`/);
    expect(stopped.stderr).not.toMatch(/raise/);

    const dry = ok(await w.cli("sync", "--dry-run"));
    const lines = dry.split("\n");
    const start = lines.findIndex((l) => l.startsWith("a real run would stop"));
    expect(lines[start]).toMatch(/5 of 6 files on the remote would be deleted, more than maxDelete \(50%\)/);
    expect(lines.slice(start + 1, start + 6).map((l) => l.trim().split(/\s+/).at(-1))).toEqual(["a.txt", "b.txt", "c/d.txt", "e.txt", "f.txt"]);
    expect(lines[start + 2]).toMatch(/2\.0 KiB\s+b\.txt/);
    expect(lines[start + 6]).toMatch(/total: 5 file\(s\), 2\.1 KiB/);
    expect(lines[start + 7]).toBe("if these deletions are intended: workspace-sync sync --max-delete 5");
    expect(await readTree(w.share)).toEqual(remoteBefore);

    const tooFew = await w.cli("sync", "--max-delete", "4");
    expect(tooFew.code).toBe(1);
    expect(tooFew.stderr).toMatch(/more than the --max-delete of this run \(4 file\(s\)\)/);
    const bad = await w.cli("sync", "--max-delete", "lots");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-delete must be a number of files/);

    ok(await w.cli("sync", "--max-delete", "5"));
    expect(Object.keys(await readTree(w.share)).filter((p) => !p.startsWith(".workspace-sync-trash/"))).toEqual(["keep.txt"]);
    expect(Object.keys(await trash(w.share)).sort()).toEqual(["a.txt", "b.txt", "c/d.txt", "e.txt", "f.txt"]);
  });

  it("a pull names its own command; a percentage works too", async () => {
    const w = await world({ mode: "mirror" });
    await put(w.workspace, six);
    ok(await w.cli("sync"));
    for (const f of ["a.txt", "b.txt", "c/d.txt", "e.txt"]) await rm(path.join(w.share, f));
    const stopped = await w.cli("sync", "--direction", "pull", "--yes");
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/on the workspace.*`workspace-sync sync --direction pull --yes --max-delete 4`/);
    expect(ok(await w.cli("sync", "--direction", "pull", "--dry-run"))).toMatch(/if these deletions are intended: workspace-sync sync --direction pull --yes --max-delete 4/);
    ok(await w.cli("sync", "--direction", "pull", "--yes", "--max-delete", "70%"));
    expect(Object.keys(await readTree(w.workspace)).filter((p) => !p.startsWith(".workspace-sync/")).sort()).toEqual(["f.txt", "keep.txt"]);
  });

  it("bisync: the dry run lists rclone's planned deletions; --max-delete takes a percentage there", async () => {
    const w = await world({ mode: "bisync" });
    await put(w.workspace, { "1.txt": "1\n", "2.txt": "2\n", "3.txt": "3\n", "4.txt": "4\n" });
    ok(await w.cli("sync", "--resync", "--yes"));
    for (const f of ["1.txt", "2.txt", "3.txt"]) await rm(path.join(w.workspace, f));
    const stopped = await w.cli("sync");
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/3 of 4 files on one side would be deleted.*`workspace-sync sync --max-delete 75%`/);
    const dry = ok(await w.cli("sync", "--dry-run"));
    expect(dry).toMatch(/3 of 4 files on the remote would be deleted[\s\S]*1\.txt[\s\S]*2\.txt[\s\S]*3\.txt[\s\S]*total: 3 file\(s\), 6 B[\s\S]*--max-delete 75%/);
    expect(Object.keys(await readTree(w.share)).sort()).toEqual(["1.txt", "2.txt", "3.txt", "4.txt"]);
    const count = await w.cli("sync", "--max-delete", "3");
    expect(count.code).toBe(2);
    expect(count.stderr).toMatch(/takes a percentage/);
    ok(await w.cli("sync", "--max-delete", "75%"));
    expect(Object.keys(await readTree(w.share))).toEqual(["4.txt"]);
  });
});
