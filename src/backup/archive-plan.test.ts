// Live SQLite (WAL mode, a writer holding uncheckpointed pages) is captured consistently, never copied torn.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { planArchive } from "./archive-plan.js";
import { walkItems } from "./archive/index.js";
import type { ItemSource } from "./items.js";
import { scanSources } from "./scan.js";

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
  it("captures a live WAL database with its committed rows and excludes the live files from the walk", async () => {
    await mkdir(dir("agents/main/agent"), { recursive: true });
    await writeFile(dir("agents/main/notes.txt"), "n");
    const live = dir("agents/main/agent/openclaw-agent.sqlite");
    const writer = new DatabaseSync(live);
    writer.exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t(x); INSERT INTO t VALUES (1),(2),(3);");
    try {
      const sources = [source("agents", "state/agents", "dir")];
      const scan = await scanSources(sources, []);
      expect(scan.databases.map((d) => d.rel)).toEqual(["main/agent/openclaw-agent.sqlite"]);
      const tmp = dir("tmp");
      await mkdir(tmp);
      const plan = await planArchive(sources, scan, [], tmp);
      expect(plan.databases).toEqual(["state/agents/main/agent/openclaw-agent.sqlite"]);
      const entries: string[] = [];
      const fromCopy: string[] = [];
      for await (const e of walkItems(plan.items)) {
        entries.push(e.archivePath);
        if (e.absPath.startsWith(tmp)) fromCopy.push(e.archivePath);
      }
      expect(entries.filter((e) => /sqlite/.test(e))).toEqual(["state/agents/main/agent/openclaw-agent.sqlite"]);
      expect(fromCopy).toEqual(["state/agents/main/agent/openclaw-agent.sqlite"]);
      const copy = new DatabaseSync(path.join(tmp, "db-0.sqlite"), { readOnly: true });
      expect(copy.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 3 });
      copy.close();
    } finally {
      writer.close();
    }
  });

  it("archives a file named .sqlite that is not a database as a plain file, with a warning", async () => {
    await mkdir(dir("ws"), { recursive: true });
    await writeFile(dir("ws/fake.sqlite"), "not a database at all, just text that is long enough to not be empty");
    const sources = [source("ws", "workspace", "dir")];
    const scan = await scanSources(sources, []);
    const plan = await planArchive(sources, scan, [], root);
    expect(plan.databases).toEqual([]);
    expect(plan.warnings[0]).toMatch(/not a database/);
    const entries: string[] = [];
    for await (const e of walkItems(plan.items)) entries.push(e.archivePath);
    expect(entries).toContain("workspace/fake.sqlite");
  });

  it("fingerprints the live tree: a change shows, a read does not", async () => {
    await mkdir(dir("ws"), { recursive: true });
    await writeFile(dir("ws/a.txt"), "a");
    const db = new DatabaseSync(dir("ws/s.sqlite"));
    db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x);");
    db.close();
    const sources = [source("ws", "workspace", "dir")];
    const first = await scanSources(sources, []);
    const reader = new DatabaseSync(dir("ws/s.sqlite"), { readOnly: true });
    reader.prepare("SELECT * FROM t").all();
    reader.close();
    expect((await scanSources(sources, [])).fingerprint).toBe(first.fingerprint);
    await writeFile(dir("ws/a.txt"), "changed");
    expect((await scanSources(sources, [])).fingerprint).not.toBe(first.fingerprint);
  });
});
