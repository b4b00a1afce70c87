// Acceptance 1 and 3: backup → list → verify → restore is byte-identical (contents, modes, mtimes, symlinks) on
// every loopback backend, and a foreign file in the backup folder is never listed, pruned or restored.
// Plus, on the local backend: the full item map with live SQLite, retention, prune --dry-run, skip-unchanged.
import { randomBytes } from "node:crypto";
import { lutimes, mkdir, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBackupJob } from "../../src/app/backup-job.js";
import { loadContext } from "../../src/app/context.js";
import { runBackup } from "../../src/backup/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { makeTree, readTree } from "../helpers/servers.js";
import { backend, backends, type Backend, type StartedBackend } from "../support/backends.js";
import { rclone, remotePut } from "../support/remote-view.js";
import { fingerprint } from "../support/tree.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "correct horse battery staple";
const T = new Date("2026-02-03T04:05:06Z");

function ok(res: { code: number | null; stdout: string; stderr: string }): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

async function backupWorld(block: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ w: World; prefix: string }> {
  const prefix = `bk-${randomBytes(3).toString("hex")}`;
  const w = await makeWorld({ backup: { ...block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], ...extra } });
  await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
  return { w, prefix };
}

/** A workspace exercising what a tar round trip can lose: modes, mtimes, symlinks, odd and long names, empty things. */
async function richWorkspace(dir: string): Promise<void> {
  await makeTree(dir, {
    "notes.md": { content: "# notes\n", mode: 0o644 },
    "secret.txt": { content: "only me\n", mode: 0o600 },
    "bin/run.sh": { content: "#!/bin/sh\necho hi\n", mode: 0o755 },
    "empty.txt": "",
    "deep/er/and/deeper/file with spaces.txt": "spaces\n",
    "ünïcödé/名前.txt": "unicode\n",
    [`long/${"n".repeat(120)}/${"f".repeat(130)}.txt`]: "long name\n",
    "data/blob.bin": randomBytes(300_000),
    "link-to-notes": { symlink: "notes.md" },
    "dangling": { symlink: "does/not/exist" },
    "empty-dir": { dir: true, mode: 0o750 },
    "private": { dir: true, mode: 0o700 },
  });
  await writeFile(path.join(dir, "private", "p.txt"), "p");
  // Whole-second mtimes: what every filesystem and the restore can represent exactly.
  const stamp = async (rel: string) => {
    const p = path.join(dir, rel);
    for (const e of await readdir(p, { withFileTypes: true })) {
      const child = path.join(rel, e.name);
      if (e.isDirectory()) await stamp(child);
      else if (e.isFile()) await utimes(path.join(dir, child), T, T);
      else if (e.isSymbolicLink()) await lutimes(path.join(dir, child), T, T);
    }
  };
  await stamp("");
}

describe.each(backends)("backup round trip on $name", (b: Backend) => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await b.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("backup → list → verify → restore is byte-identical; a foreign file is never touched", async () => {
    const { w, prefix } = await backupWorld(server.block, { retain: 1 });
    const repo = `cloud-backup:${server.pathPrefix}${prefix}`;
    try {
      await richWorkspace(w.workspace);
      expect(ok(await w.cli("backup", "list"))).toMatch(/no snapshots yet/); // also writes the rclone.conf the test uses
      await remotePut(w.stateDir, `${repo}/backup-family-photos.zip`, "family photos\n");

      const first = ok(await w.cli("backup", "now"));
      expect(first).toMatch(/snapshot backup-\d{8}T\d{6}Z-[0-9a-f]{8}\.tar\.zst\.age committed/);
      const second = ok(await w.cli("backup", "now"));
      expect(second).toMatch(/retention removed 1 snapshot/);

      const list = JSON.parse(ok(await w.cli("backup", "list", "--json"))) as { snapshots: { name: string; files: number; encryption: string }[]; legacy: unknown[] };
      expect(list.snapshots).toHaveLength(1);
      expect(list.legacy).toEqual([]);
      expect(list.snapshots[0]).toMatchObject({ files: 9, encryption: "age (passphrase)" });
      expect(JSON.stringify(list)).not.toContain("family-photos");

      expect(ok(await w.cli("backup", "verify"))).toMatch(/^ok backup-.* 9 files/m);

      const to = path.join(w.root, "restored");
      const restored = ok(await w.cli("backup", "restore", "--to", to));
      expect(restored).toContain(`to ${to}`);
      expect(restored).toMatch(/compared with the live locations: \d+ unchanged, 0 differ, 0 only in the snapshot, 0 only live/);
      expect(await fingerprint(path.join(to, "workspace"))).toEqual(await fingerprint(w.workspace));
      expect(await readTree(path.join(to, "workspace"), { emptyDirs: true })).toEqual(await readTree(w.workspace, { emptyDirs: true }));

      // --force into a folder that already holds other files: those are not the snapshot's, and the report says so.
      const busy = path.join(w.root, "busy");
      await mkdir(path.join(busy, "workspace"), { recursive: true });
      await writeFile(path.join(busy, "workspace", "mine-not-the-snapshots.txt"), "kept\n");
      await writeFile(path.join(busy, "notes.txt"), "kept\n");
      const forced = ok(await w.cli("backup", "restore", "--to", busy, "--force"));
      expect(forced).toMatch(/compared with the live locations: \d+ unchanged, 0 differ, 0 only in the snapshot, 0 only live/);
      expect(forced).not.toContain("mine-not-the-snapshots.txt");
      expect(await readFile(path.join(busy, "notes.txt"), "utf8")).toBe("kept\n");

      ok(await w.cli("backup", "prune"));
      const names = (await rclone(w.stateDir, "lsf", repo)).split("\n").filter(Boolean);
      expect(names).toContain("backup-family-photos.zip");
      expect(names.filter((n) => n.startsWith("backup-2"))).toHaveLength(2); // one snapshot: data + manifest
    } finally {
      await w.cleanup();
    }
  });
});

describe("backup of the whole agent system (local backend)", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  // Both formats: the walk reads ahead of the writer, and must never pass a captured copy before it is stored.
  it.each(["archive", "repository"])("captures live SQLite (cron, sessions) consistently and restores the item layout (%s format)", async (format) => {
    const { w } = await backupWorld(server.block, { include: ["workspace", "config", "cron", "sessions", "credentials", "env", "skills"], format });
    try {
      await makeTree(w.workspace, { "MEMORY.md": "# memory\n" });
      await makeTree(w.stateDir, { "credentials/whatsapp/default/creds.json": "{}", "agents/main/sessions/s.jsonl": "{}\n" });
      await mkdir(path.join(w.stateDir, "state"), { recursive: true });
      await mkdir(path.join(w.stateDir, "agents", "main", "agent"), { recursive: true });
      // The gateway keeps its databases open in WAL mode with committed pages not yet checkpointed.
      const stateDb = new DatabaseSync(path.join(w.stateDir, "state", "openclaw.sqlite"));
      const agentDb = new DatabaseSync(path.join(w.stateDir, "agents", "main", "agent", "openclaw-agent.sqlite"));
      for (const db of [stateDb, agentDb]) db.exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t(x); INSERT INTO t VALUES ('committed');");
      try {
        const out = ok(await w.cli("backup", "now"));
        expect(out).toMatch(/not found on this install \(recorded in the snapshot\): skills/);
        // Told once: the next run's snapshot records it again (--json), without repeating the line.
        await writeFile(path.join(w.workspace, "MEMORY.md"), "# memory, later\n");
        const next = ok(await w.cli("backup", "now"));
        expect(next).toMatch(/committed/);
        expect(next).not.toMatch(/not found/);
        const to = path.join(w.root, "restored");
        const restored = ok(await w.cli("backup", "restore", "--to", to));
        expect(restored).toMatch(/compared with the live locations/);
        const files = Object.keys(await readTree(to)).sort();
        expect(files).toEqual([
          "state/.env",
          "state/agents/main/agent/openclaw-agent.sqlite",
          "state/agents/main/sessions/s.jsonl",
          "state/credentials/whatsapp/default/creds.json",
          "state/openclaw.json",
          "state/state/openclaw.sqlite",
          "workspace/MEMORY.md",
        ]);
        for (const rel of ["state/state/openclaw.sqlite", "state/agents/main/agent/openclaw-agent.sqlite"]) {
          const copy = new DatabaseSync(path.join(to, rel), { readOnly: true });
          expect(copy.prepare("SELECT x FROM t").all()).toEqual([{ x: "committed" }]);
          copy.close();
        }
      } finally {
        stateDb.close();
        agentDb.close();
      }
    } finally {
      await w.cleanup();
    }
  });

  // The comparison's live side is walked while the restore runs, its restored side in the walk that checks the copy.
  it.each(["archive", "repository"])("restore says how the snapshot differs from the live workspace (%s format)", async (format) => {
    const { w } = await backupWorld(server.block, { format, exclude: ["cache/**", "*.tmp"] });
    try {
      await makeTree(w.workspace, {
        "same.md": "same\n",
        "edited.md": "before\n",
        "deleted.md": "gone soon\n",
        "dir/kept.txt": "kept\n",
        "link": { symlink: "same.md" },
      });
      await utimes(path.join(w.workspace, "edited.md"), T, T);
      ok(await w.cli("backup", "now"));
      await writeFile(path.join(w.workspace, "edited.md"), "after, longer\n");
      await writeFile(path.join(w.workspace, "added.md"), "new\n");
      await makeTree(w.workspace, { "cache/big.bin": "excluded\n", "scratch.tmp": "excluded\n" });
      await rm(path.join(w.workspace, "deleted.md"));
      const to = path.join(w.root, "restored-diff");
      const report = JSON.parse(ok(await w.cli("backup", "restore", "--to", to, "--json"))) as { diff: { same: number; changed: string[]; onlyInSnapshot: string[]; onlyLive: string[] } };
      expect(report.diff).toEqual({
        same: 3, // same.md, dir/kept.txt, link
        changed: ["workspace/edited.md"],
        onlyInSnapshot: ["workspace/deleted.md"],
        onlyLive: ["workspace/added.md"],
      });
      // --path: live files outside the selection are not "only live".
      const some = JSON.parse(ok(await w.cli("backup", "restore", "--to", path.join(w.root, "restored-some"), "--path", "workspace/dir", "--json"))) as typeof report;
      expect(some.diff).toEqual({ same: 1, changed: [], onlyInSnapshot: [], onlyLive: [] });
    } finally {
      await w.cleanup();
    }
  });

  it("refuses to store credentials in plain text unless allowed (exit 2)", async () => {
    const w = await makeWorld({ backup: { ...server.block, prefix: "plain", include: ["workspace", "cron"] } });
    try {
      await makeTree(path.join(w.stateDir, "state"), { "openclaw.sqlite": "" });
      const res = await w.cli("backup", "now");
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/cron hold credentials or tokens.*allowPlaintextSecrets/);
      await w.writeConfig({ backup: { ...server.block, prefix: "plain", include: ["workspace", "cron"], allowPlaintextSecrets: true, compression: "gzip" } });
      expect(ok(await w.cli("backup", "now"))).toMatch(/\.tar\.gz committed/);
    } finally {
      await w.cleanup();
    }
  });

  it("retention by calendar, prune --dry-run, and skip-unchanged for scheduled runs", async () => {
    const { w, prefix } = await backupWorld(server.block, { retain: { last: 2 } });
    const repo = `cloud-backup:${server.pathPrefix}${prefix}`;
    try {
      await makeTree(w.workspace, { "a.txt": "a" });
      const ctx = await buildBackupJob(await loadContext({}, w.env, silentLogger));
      const first = await runBackup(ctx, { trigger: "interval", force: false });
      expect(first.snapshot).toBeDefined();
      const skipped = await runBackup(ctx, { trigger: "interval", force: false });
      expect(skipped).toMatchObject({ skipped: true, reason: expect.stringContaining(first.snapshot!) });
      const status = ok(await w.cli("backup", "status"));
      expect(status).toMatch(/skipped \(nothing changed/);
      expect(status).toMatch(/skipped: +1 unchanged scheduled run/);
      await writeFile(path.join(w.workspace, "a.txt"), "changed");
      expect((await runBackup(ctx, { trigger: "interval", force: false })).snapshot).toBeDefined();
      expect((await runBackup(ctx, { trigger: "cli", force: true })).snapshot).toBeDefined(); // `backup now` never skips
      expect(JSON.parse(ok(await w.cli("backup", "list", "--json"))).snapshots).toHaveLength(2);

      // A stricter policy, tried first.
      await w.writeConfig({ backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 1 } });
      const dry = ok(await w.cli("backup", "prune", "--dry-run"));
      expect(dry).toMatch(/retention would remove 1 snapshot/);
      expect((await rclone(w.stateDir, "lsf", repo)).split("\n").filter(Boolean)).toHaveLength(4);
      ok(await w.cli("backup", "prune"));
      expect((await rclone(w.stateDir, "lsf", repo)).split("\n").filter(Boolean)).toHaveLength(2);
    } finally {
      await w.cleanup();
    }
  });
});
