// Live SQLite (WAL mode, a writer holding uncheckpointed pages) is captured consistently, never copied torn.
import { lstat, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capturingEntries } from "./capture-entries.js";
import type { ItemSource } from "./items.js";
import { scanItems, sourceItems, TreeFingerprint } from "./scan.js";

let root: string;
const dir = (rel: string) => path.join(root, rel);

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "ws-plan-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const source = (rel: string, archivePath: string, type: "dir" | "file"): ItemSource => ({
  item: "agents",
  livePath: dir(rel),
  root: dir(rel),
  type,
  archivePath,
  exclude: [],
  secret: true,
});

describe("SQLite capture", () => {
  it("replaces a live WAL database by a consistent copy and leaves its -wal and -shm out", async () => {
    await mkdir(dir("agents/main/agent"), { recursive: true });
    await writeFile(dir("agents/main/notes.txt"), "n");
    const live = dir("agents/main/agent/openclaw-agent.sqlite");
    const writer = new DatabaseSync(live);
    writer.exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t(x); INSERT INTO t VALUES (1),(2),(3);");
    try {
      const items = sourceItems([source("agents", "state/agents", "dir")], []);
      const tmp = dir("tmp");
      await mkdir(tmp);
      const databases: string[] = [];
      const seen: { archivePath: string; fromCopy: boolean; rows?: unknown }[] = [];
      for await (const e of capturingEntries(items, { transientDir: tmp, onDatabase: (p) => databases.push(p) })) {
        const fromCopy = e.absPath.startsWith(tmp);
        // The packer reads each entry before asking for the next: read the copy now, as it would.
        let rows: unknown;
        if (fromCopy) {
          const copy = new DatabaseSync(e.absPath, { readOnly: true });
          rows = copy.prepare("SELECT count(*) AS n FROM t").get();
          copy.close();
        }
        seen.push({ archivePath: e.archivePath, fromCopy, rows });
      }
      expect(databases).toEqual(["state/agents/main/agent/openclaw-agent.sqlite"]);
      expect(seen.filter((e) => /sqlite/.test(e.archivePath))).toEqual([{ archivePath: "state/agents/main/agent/openclaw-agent.sqlite", fromCopy: true, rows: { n: 3 } }]);
      expect(seen.map((e) => e.archivePath)).toContain("state/agents/main/notes.txt");
      expect(await readdir(tmp)).toEqual([]); // one copy at a time, and none left
    } finally {
      writer.close();
    }
  });

  it("archives a file named .sqlite that is not a database as a plain file, with a warning", async () => {
    await mkdir(dir("ws"), { recursive: true });
    await writeFile(dir("ws/fake.sqlite"), "not a database at all, just text that is long enough to not be empty");
    const warnings: string[] = [];
    const paths: string[] = [];
    for await (const e of capturingEntries(sourceItems([source("ws", "workspace", "dir")], []), { transientDir: root, onWarning: (m) => warnings.push(m) })) paths.push(e.archivePath);
    expect(paths).toContain("workspace/fake.sqlite");
    expect(warnings[0]).toMatch(/not a database/);
  });

  it("fingerprints the live tree: a change shows, a read does not, and packing sees what the pre-scan saw", async () => {
    await mkdir(dir("ws"), { recursive: true });
    await writeFile(dir("ws/a.txt"), "a");
    const db = new DatabaseSync(dir("ws/s.sqlite"));
    db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x);");
    db.close();
    const items = sourceItems([source("ws", "workspace", "dir")], []);
    const first = await scanItems(items);
    const reader = new DatabaseSync(dir("ws/s.sqlite"), { readOnly: true });
    reader.prepare("SELECT * FROM t").all();
    reader.close();
    expect((await scanItems(items)).fingerprint).toBe(first.fingerprint);
    const fp = new TreeFingerprint();
    for await (const _ of capturingEntries(items, { transientDir: root, fingerprint: fp }));
    expect(fp.digest()).toBe(first.fingerprint);
    await writeFile(dir("ws/a.txt"), "changed");
    expect((await scanItems(items)).fingerprint).not.toBe(first.fingerprint);
  });

  it("hands each entry the walk's own lstat when asked, with the same fingerprint, and none for a captured copy", async () => {
    await mkdir(dir("ws/sub"), { recursive: true });
    await writeFile(dir("ws/sub/a.txt"), "a");
    // Sub-millisecond mtimes: a BigInt lstat's own mtimeMs is whole milliseconds, the fingerprint's is not.
    await utimes(dir("ws/sub/a.txt"), 1_700_000_000.123456, 1_700_000_000.123456);
    await utimes(dir("ws/sub"), -1.25, -1.25); // before 1970: the nanoseconds split the other way
    await symlink("sub/a.txt", dir("ws/link"));
    const db = new DatabaseSync(dir("ws/s.sqlite"));
    db.exec("CREATE TABLE t(x);");
    db.close();
    const items = sourceItems([source("ws", "workspace", "dir")], []);
    const plain = await scanItems(items);
    const fp = new TreeFingerprint();
    const seen: { archivePath: string; stats: boolean; ino?: bigint; mtimeMs: number }[] = [];
    await mkdir(dir("tmp"));
    for await (const e of capturingEntries(items, { transientDir: dir("tmp"), fingerprint: fp, stats: true })) {
      seen.push({ archivePath: e.archivePath, stats: e.stats !== undefined, ino: e.stats?.ino, mtimeMs: e.mtimeMs });
      if (e.stats) expect(e.stats.ino).toBe((await lstat(e.absPath, { bigint: true })).ino);
    }
    expect(fp.digest()).toBe(plain.fingerprint);
    const byPath = new Map(seen.map((e) => [e.archivePath, e]));
    expect(byPath.get("workspace/sub/a.txt")).toMatchObject({ stats: true });
    expect(byPath.get("workspace/sub/a.txt")!.mtimeMs).toBe((await lstat(dir("ws/sub/a.txt"))).mtimeMs);
    expect(byPath.get("workspace/sub")!.mtimeMs).toBe((await lstat(dir("ws/sub"))).mtimeMs);
    expect(byPath.get("workspace/link")).toMatchObject({ stats: true });
    expect(byPath.get("workspace/s.sqlite")).toMatchObject({ stats: false }); // the copy's, not the live file's
  });
});
