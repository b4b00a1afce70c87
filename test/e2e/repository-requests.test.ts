// How many requests an incremental repository backup makes on S3 (s3rver counts every request it receives): the
// parent's trees and snapshots come from the local cache, so a run after a few edits costs a fixed handful of
// requests however many folders the workspace has.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBackupJob } from "../../src/app/backup-job.js";
import { loadContext } from "../../src/app/context.js";
import { lsSnapshot, restoreSnapshot } from "../../src/backup/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { tempDir } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "requests e2e passphrase 41d9-long";
const FOLDERS = 30;

/** The `rclone serve restic` processes whose command line names `prefix`. */
function servesOf(prefix: string): string[] {
  try {
    return execFileSync("pgrep", ["-f", `serve restic --stdio .*${prefix}`]).toString().trim().split("\n").filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Folders named `name` anywhere under `root`. */
async function findDirs(root: string, name: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) if (e.isDirectory() && e.name === name) found.push(path.join(e.parentPath, e.name));
  return found;
}

async function requestsSince(log: string, from: number): Promise<string[]> {
  const lines = (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return lines.slice(from);
}

describe("repository backup on S3: requests of an incremental run", () => {
  let server: StartedBackend;
  let w: World;
  let log: string;
  let prefix: string;
  const saved = process.env.S3RVER_REQUEST_LOG;

  beforeAll(async () => {
    log = path.join(await tempDir("s3-requests"), "requests.log");
    process.env.S3RVER_REQUEST_LOG = log;
    server = await backend("s3").start();
    if (saved === undefined) delete process.env.S3RVER_REQUEST_LOG;
    else process.env.S3RVER_REQUEST_LOG = saved;
    prefix = `req-${randomBytes(3).toString("hex")}`;
    w = await makeWorld({
      backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 3, format: "repository" },
    });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    for (let d = 0; d < FOLDERS; d++) {
      await mkdir(path.join(w.workspace, `topic-${d}`, "sub"), { recursive: true });
      for (let i = 0; i < 5; i++) await writeFile(path.join(w.workspace, `topic-${d}`, i % 2 ? "sub" : "", `n${i}.md`), `# ${d}/${i}\n${"text ".repeat(50 * i)}\n`);
    }
  }, 300_000);
  afterAll(async () => {
    await w?.cleanup();
    await server?.stop();
  });

  it("after 10 edited files: a bounded number of requests, none for the parent's trees", async () => {
    const first = await w.cli("backup", "now", "--json");
    expect(first.code, first.stderr).toBe(0);
    for (let d = 0; d < 10; d++) await writeFile(path.join(w.workspace, `topic-${d * 3}`, "n0.md"), `edited ${d} ${Date.now()}\n`);
    const before = (await requestsSince(log, 0)).length;
    const second = await w.cli("backup", "now", "--json");
    expect(second.code, second.stderr).toBe(0);
    const made = await requestsSince(log, before);
    console.log(`incremental backup: ${made.length} S3 requests\n${made.join("\n")}`);
    // No range read of a data/ object: the parent's trees are read from the local cache.
    expect(made.filter((r) => /^GET .*\/data\//.test(r))).toEqual([]);
    // 15 with rclone 1.60 (the goal; restic itself makes ~12): no key file request (kept locally since init).
    expect(made.filter((r) => r.includes("/keys/"))).toEqual([]);
    expect(made.length).toBeLessThanOrEqual(15);
  });

  it("a restore reads packs in few large ranges (RCLONE_READ_SHAPE), and restores every byte", async () => {
    // 24 MiB that does not compress, in files of 1.5 MiB: ~2 packs. Reads of up to 6 MiB need ~5 ranged GETs; the
    // local folder's shape (2 MiB reads) needs 12 or more.
    await mkdir(path.join(w.workspace, "media"), { recursive: true });
    const media = new Map<string, Buffer>();
    for (let i = 0; i < 16; i++) {
      const bytes = randomBytes(1536 << 10);
      media.set(`m${i}.bin`, bytes);
      await writeFile(path.join(w.workspace, "media", `m${i}.bin`), bytes);
    }
    const third = await w.cli("backup", "now", "--json");
    expect(third.code, third.stderr).toBe(0);
    const to = path.join(w.root, "restored-large-reads");
    const before = (await requestsSince(log, 0)).length;
    const restored = await w.cli("backup", "restore", "--to", to);
    expect(restored.code, restored.stderr).toBe(0);
    const reads = (await requestsSince(log, before)).filter((r) => /^GET .*\/data\//.test(r));
    console.log(`restore: ${reads.length} GETs of data/\n${reads.join("\n")}`);
    // The media's reads (the small files' and the trees' are a few KiB each): fewer than 2 MiB reads would need.
    const large = reads.map((r) => /range=bytes=(\d+)-(\d+)/.exec(r)).filter((m) => m && Number(m[2]) - Number(m[1]) + 1 > 256 << 10);
    const bytes = large.reduce((n, m) => n + Number(m![2]) - Number(m![1]) + 1, 0);
    expect(bytes).toBeGreaterThanOrEqual(24 << 20);
    expect(large.length).toBeLessThanOrEqual(7);
    // The trees of the 60 folders come from the tree packs this install cached when it wrote them: no request each
    // (a request per folder, twice per restore, made it 80–107 GETs before).
    expect(reads.length).toBeLessThanOrEqual(10);
    for (const [name, bytes] of media) expect((await readFile(path.join(to, "workspace", "media", name))).equals(bytes), name).toBe(true);

    // A machine without that cache: each tree pack is downloaded whole, once, and then serves every folder.
    const caches = await findDirs(w.stateDir, "tree-packs");
    expect(caches.length).toBeGreaterThan(0);
    for (const dir of caches) await rm(dir, { recursive: true, force: true });
    const again = path.join(w.root, "restored-fresh-cache");
    const before2 = (await requestsSince(log, 0)).length;
    const fresh = await w.cli("backup", "restore", "--to", again);
    expect(fresh.code, fresh.stderr).toBe(0);
    const reads2 = (await requestsSince(log, before2)).filter((r) => /^GET .*\/data\//.test(r));
    console.log(`restore with no tree cache: ${reads2.length} GETs of data/\n${reads2.join("\n")}`);
    const whole = reads2.filter((r) => !r.includes("range="));
    expect(whole.length).toBeGreaterThan(0); // the tree packs
    expect(new Set(whole).size).toBe(whole.length); // each once
    expect(reads2.length).toBeLessThanOrEqual(whole.length + 10);
    for (const [name, bytes] of media) expect((await readFile(path.join(again, "workspace", "media", name))).equals(bytes), name).toBe(true);
    expect(await readFile(path.join(again, "workspace", "topic-7", "sub", "n3.md"), "utf8")).toBe(`# 7/3\n${"text ".repeat(150)}\n`);

    // The command ends its rclone transport when it is done, not after the transport's idle time: when a restore
    // returns, no `rclone serve restic` of this repository is left (a CLI run then exits at once).
    const job = await buildBackupJob(await loadContext({}, w.env, silentLogger));
    await restoreSnapshot(job, { to: path.join(w.root, "restored-in-process") });
    expect(servesOf(prefix)).toEqual([]);
    await lsSnapshot(job, { snapshot: "latest" }, () => {});
    expect(servesOf(prefix)).toEqual([]);
  });
});
