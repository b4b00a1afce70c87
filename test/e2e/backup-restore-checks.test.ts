// Issue 14 and 16, through the CLI on real files: `restore --dry-run` shows every path (or says plainly the list is cut
// and how to see all), `--path` matching nothing is a usage error, a restore whose result does not match the
// snapshot's own record fails loudly and leaves nothing, the progress counters count files, `backup now` of a missing
// workspace fails and commits nothing, and an object that merely looks like a snapshot is never deleted.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBackupJob } from "../../src/app/backup-job.js";
import { loadContext } from "../../src/app/context.js";
import { restoreSnapshot, verifySnapshots, type Progress } from "../../src/backup/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { makeTree } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "restore checks passphrase 2b7d";
const realOpenssl = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v openssl"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

function ok(res: { code: number | null; stdout: string; stderr: string }): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

describe("restore checks and leftovers (local backend)", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function world(extra: Record<string, unknown> = {}): Promise<{ w: World; repoDir: string }> {
    const prefix = `checks-${randomBytes(3).toString("hex")}`;
    const w = await makeWorld({ backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], ...extra } });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    return { w, repoDir: path.join(server.server.rootDir, prefix) };
  }

  it("--dry-run lists every path with --json and says when the text list is cut; --path matching nothing is exit 2", async () => {
    const { w } = await world();
    try {
      const many: Record<string, string> = {};
      for (let i = 0; i < 1100; i++) many[`notes/n${String(i).padStart(4, "0")}.md`] = `${i}\n`;
      await makeTree(w.workspace, { ...many, "memory/today.md": "today\n" });
      ok(await w.cli("backup", "now"));

      const text = ok(await w.cli("backup", "restore", "--dry-run"));
      expect(text).toMatch(/would restore 1101 files/);
      expect(text.split("\n").filter((l) => l.startsWith("  workspace"))).toHaveLength(1000);
      expect(text).toMatch(/the list is cut: \d+ more path\(s\) of 1104 not shown \(`--json` lists every path\)/);
      const all = JSON.parse(ok(await w.cli("backup", "restore", "--dry-run", "--json"))) as { entries: string[]; entriesTotal: number; files: number };
      expect(all.entries).toHaveLength(all.entriesTotal);
      expect(all.entries).toContain("workspace/notes/n1099.md");
      expect(all.files).toBe(1101);

      const picked = ok(await w.cli("backup", "restore", "--dry-run", "--path", "workspace/memory"));
      expect(picked).toMatch(/would restore 1 files/);
      expect(picked).not.toMatch(/cut/);

      const target = path.join(w.root, "nothing");
      for (const args of [["--dry-run"], ["--to", target]]) {
        const res = await w.cli("backup", "restore", ...args, "--path", "workspace/memory", "--path", "workspace/no-such-folder");
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toMatch(/--path 'workspace\/no-such-folder' matched nothing in snapshot [0-9a-f]{8} .*nothing was restored/);
        expect(res.stdout).toBe("");
      }
      await expect(readdir(target)).rejects.toThrow(); // the target it would have created is not there
    } finally {
      await w.cleanup();
    }
  });

  it("a restore whose files do not match the snapshot's own record fails loudly and leaves nothing", async () => {
    const { w, repoDir } = await world({ encrypt: false, passphrase: undefined });
    try {
      await makeTree(w.workspace, { "a.txt": "a\n", "b/c.txt": "c\n" });
      ok(await w.cli("backup", "now"));
      const manifestName = (await readdir(repoDir)).find((n) => n.endsWith(".manifest.json"))!;
      const manifest = JSON.parse(await readFile(path.join(repoDir, manifestName), "utf8")) as { files: number };
      expect(manifest.files).toBe(2);
      // The record says one file more than the snapshot holds (a manifest written wrong, or data lost in between).
      await writeFile(path.join(repoDir, manifestName), `${JSON.stringify({ ...manifest, files: 3 })}\n`);
      await rm(path.join(w.stateDir, "workspace-sync", "backup-manifests.json"), { force: true });
      const target = path.join(w.root, "restored");
      const res = await w.cli("backup", "restore", "--to", target);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(/records 3 files, but 2 came out of it .*nothing was restored/);
      await expect(readdir(target)).rejects.toThrow();
      const verify = await w.cli("backup", "verify");
      expect(verify.code).toBe(1);
      expect(verify.stdout).toMatch(/FAILED .*holds 2 files, its manifest says 3/);
    } finally {
      await w.cleanup();
    }
  });

  // A large archive in a folder on this machine is hashed by a helper process (openssl) reading the same file beside
  // the restore: the check against the manifest holds as before, and the helper gets no secret.
  it.skipIf(!realOpenssl)("a large archive's SHA-256 from the helper process: checked against the manifest, no secret given to the helper", async () => {
    const { w, repoDir } = await world();
    try {
      const big = randomBytes(20 << 20); // incompressible: the stored object is past the helper's threshold
      await makeTree(w.workspace, { "a.txt": "a\n" });
      await writeFile(path.join(w.workspace, "big.bin"), big);
      ok(await w.cli("backup", "now", "-q"));
      const seen = path.join(w.root, "helper-seen");
      const fake = path.join(w.root, "fake-bin");
      await mkdir(fake);
      await writeFile(path.join(fake, "openssl"), `#!/bin/sh\nenv > '${seen}.env'\necho "$*" >> '${seen}.args'\nexec '${realOpenssl}' "$@"\n`, { mode: 0o755 });
      w.env.PATH = `${fake}${path.delimiter}${w.env.PATH}`;
      w.env.BACKUP_PASSPHRASE = PASS; // exported as well: still kept from the helper

      const target = path.join(w.root, "restored");
      ok(await w.cli("backup", "restore", "--to", target, "-q"));
      expect(createHash("sha256").update(await readFile(path.join(target, "workspace", "big.bin"))).digest("hex")).toBe(createHash("sha256").update(big).digest("hex"));
      expect((await readFile(`${seen}.args`, "utf8")).trim()).toBe("dgst -sha256");
      const helperEnv = await readFile(`${seen}.env`, "utf8");
      expect(helperEnv).not.toContain(PASS);
      expect(helperEnv).not.toContain("BACKUP_PASSPHRASE");

      // The manifest records another SHA-256 for the same bytes: verify and restore fail, nothing is restored.
      const manifestName = (await readdir(repoDir)).find((n) => n.endsWith(".manifest.json"))!;
      const manifest = JSON.parse(await readFile(path.join(repoDir, manifestName), "utf8")) as { stored: { size: number; sha256: string } };
      const other = manifest.stored.sha256.replace(/^./, (c) => (c === "0" ? "1" : "0"));
      await writeFile(path.join(repoDir, manifestName), `${JSON.stringify({ ...manifest, stored: { ...manifest.stored, sha256: other } })}\n`);
      await rm(path.join(w.stateDir, "workspace-sync", "backup-manifests.json"), { force: true });
      const again = path.join(w.root, "restored-again");
      const res = await w.cli("backup", "restore", "--to", again);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(/does not match its manifest.*modified or damaged/);
      await expect(readdir(again)).rejects.toThrow();
      const verify = await w.cli("backup", "verify");
      expect(verify.code).toBe(1);
      expect(`${verify.stdout}${verify.stderr}`).toMatch(/does not match its manifest/);
    } finally {
      await w.cleanup();
    }
  });

  // The live side is walked while the data is written (from the first bytes on), and must be complete before the
  // restored copy moves into place: a --force restore into the live location itself compares with what was there.
  it.each(["archive", "repository"])("restore --force into the live location compares with the files as they were before it (%s format)", async (format) => {
    const { w } = await world({ format });
    try {
      const many: Record<string, string> = {};
      for (let i = 0; i < 300; i++) many[`notes/n${String(i).padStart(3, "0")}.md`] = `note ${i}\n`.repeat(50);
      await makeTree(w.workspace, { ...many, "memory/today.md": "today\n" });
      ok(await w.cli("backup", "now", "-q"));
      await writeFile(path.join(w.workspace, "notes", "n007.md"), "edited after the backup\n");
      await writeFile(path.join(w.workspace, "scratch.md"), "new since\n");
      await rm(path.join(w.workspace, "memory", "today.md"));
      const out = ok(await w.cli("backup", "restore", "--to", w.stateDir, "--force"));
      expect(out).toMatch(/compared with the live locations: 299 unchanged, 1 differ, 1 only in the snapshot, 1 only live/);
      expect(await readFile(path.join(w.workspace, "notes", "n007.md"), "utf8")).toBe("note 7\n".repeat(50));
      expect(await readFile(path.join(w.workspace, "memory", "today.md"), "utf8")).toBe("today\n");
      expect(await readFile(path.join(w.workspace, "scratch.md"), "utf8")).toBe("new since\n");
    } finally {
      await w.cleanup();
    }
  });

  it("verify and restore count files in their progress, not only bytes", async () => {
    const { w } = await world();
    try {
      await makeTree(w.workspace, { "a.txt": "a\n", "b/c.txt": "c\n", "b/d.bin": randomBytes(200_000) });
      ok(await w.cli("backup", "now"));
      const job = await buildBackupJob(await loadContext({}, w.env, silentLogger));
      const seen: Progress[] = [];
      await verifySnapshots(job, { onProgress: (p) => seen.push(p) });
      await restoreSnapshot(job, { to: path.join(w.root, "r"), onProgress: (p) => seen.push(p) });
      const last = (phase: string) => seen.filter((p) => p.phase === phase).at(-1)!;
      expect(last("verify")).toMatchObject({ files: 3, totalFiles: 3 });
      expect(last("restore")).toMatchObject({ files: 3, totalFiles: 3 });
      expect(last("restore").bytes).toBe(last("restore").totalBytes);
    } finally {
      await w.cleanup();
    }
  });

  for (const format of ["archive", "repository"] as const) {
    it(`a --path restore's progress counts the selection (${format})`, async () => {
      const { w } = await world({ format });
      try {
        await makeTree(w.workspace, { "a.txt": "a\n", "b/c.txt": "c\n", "b/d.bin": randomBytes(200_000), "e/f.txt": "f\n" });
        ok(await w.cli("backup", "now"));
        const job = await buildBackupJob(await loadContext({}, w.env, silentLogger));
        const seen: Progress[] = [];
        await restoreSnapshot(job, { to: path.join(w.root, "r"), paths: ["workspace/b"], onProgress: (p) => seen.push(p) });
        const last = seen.filter((p) => p.phase === "restore").at(-1)!;
        expect(last.files).toBe(2);
        if (format === "repository") {
          // Counted from the folders the selection reaches: two files, their bytes.
          expect(last).toMatchObject({ totalFiles: 2, bytes: 200_002, totalBytes: 200_002 });
        } else {
          // One stream read whole: the bytes are the stored object's, the files have no total (not the snapshot's 4).
          expect(last.totalFiles).toBe(0);
          expect(last.bytes).toBe(last.totalBytes);
        }
      } finally {
        await w.cleanup();
      }
    });
  }

  it("backup now of a workspace that does not exist fails (exit 2) and commits nothing", async () => {
    const { w, repoDir } = await world();
    try {
      await rm(w.workspace, { recursive: true });
      const res = await w.cli("backup", "now");
      expect(res.code, res.stdout).toBe(2);
      expect(res.stderr).toMatch(/the workspace .*workspace does not exist \(backup.include has "workspace"\)/);
      expect(await readdir(repoDir).catch(() => [])).toEqual([]);
      const status = JSON.parse(ok(await w.cli("backup", "status", "--json"))) as { state: { lastRun: { ok: boolean; error: string } } };
      expect(status.state.lastRun).toMatchObject({ ok: false, error: expect.stringMatching(/does not exist/) });
    } finally {
      await w.cleanup();
    }
  });

  it("an object that only looks like a snapshot (no manifest, not written here) survives backup now and prune", async () => {
    const { w, repoDir } = await world({ retain: 1 });
    try {
      await makeTree(w.workspace, { "a.txt": "a\n" });
      await mkdir(repoDir, { recursive: true });
      // Dated 2025 in its name, so "old" by any reading of the name: it must not matter.
      const foreign = "backup-20250101T000000Z-12345678.tar.zst.age";
      const partial = "backup-20250101T000000Z-87654321.tar.zst.age.partial";
      const content = randomBytes(4096);
      await writeFile(path.join(repoDir, foreign), content);
      await writeFile(path.join(repoDir, partial), content);
      ok(await w.cli("backup", "now"));
      ok(await w.cli("backup", "now"));
      const prune = JSON.parse(ok(await w.cli("backup", "prune", "--json"))) as { foreign: string[]; leftovers: string[] };
      expect(prune.foreign.sort()).toEqual([foreign, partial].sort());
      expect(prune.leftovers).toEqual([]);
      const names = await readdir(repoDir);
      expect(names).toEqual(expect.arrayContaining([foreign, partial]));
      expect(createHash("sha256").update(await readFile(path.join(repoDir, foreign))).digest("hex")).toBe(createHash("sha256").update(content).digest("hex"));
      expect(names.filter((n) => n.endsWith(".manifest.json"))).toHaveLength(1);
      const list = ok(await w.cli("backup", "list"));
      expect(list).toMatch(/\(2 object\(s\) named like snapshots but not written by this install: left alone\)/);
      expect(list).not.toMatch(/leftover object/);
    } finally {
      await w.cleanup();
    }
  });
});
