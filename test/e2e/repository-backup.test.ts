// `backup.format: "repository"` through the CLI, on real remotes (local folder, sftp, S3 via s3rver), with the real
// restic 0.14 as the judge: every repository the product writes passes `restic check --read-data`, restic restores
// its snapshots byte for byte, an incremental run adds only what changed, restic's own backups into the same
// repository deduplicate against ours (same chunks, same blob IDs), and our restore gives back what was saved.
import { randomBytes } from "node:crypto";
import { appendFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { productDir } from "../../src/state/paths.js";
import { randomBytesSeeded, readTree, tempDir } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { restic } from "../support/restic-oracle.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "repository e2e passphrase 7c2f-long";

function ok(res: { code: number | null; stdout: string; stderr: string }): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

interface Outcome {
  id: string;
  short_id: string;
  format: string;
  files: number;
  bytes: number;
  storedBytes: number;
}

async function fillWorkspace(ws: string): Promise<void> {
  await mkdir(path.join(ws, "notes", "deep"), { recursive: true });
  for (let i = 0; i < 60; i++) await writeFile(path.join(ws, "notes", i % 2 ? "deep" : "", `n${i}.md`), `# note ${i}\n${"words ".repeat(i * 20)}\n`);
  await writeFile(path.join(ws, "model.bin"), randomBytesSeeded(6 * 1024 * 1024 + 5, 3));
  await writeFile(path.join(ws, "empty.txt"), "");
}

for (const kind of ["local", "sftp", "s3"] as const) {
  describe(`repository format on ${kind}`, () => {
    let server: StartedBackend;
    let w: World;
    let resticRepo: string;
    let resticEnv: NodeJS.ProcessEnv;
    const r = (args: string[], check = true) => restic(args, { repo: resticRepo, password: PASS, env: resticEnv, check, timeoutMs: 300_000 });

    beforeAll(async () => {
      server = await backend(kind).start();
      const prefix = `repo-e2e-${randomBytes(3).toString("hex")}`;
      w = await makeWorld({
        backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace", "config"], retain: 3, format: "repository" },
      });
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
      await fillWorkspace(w.workspace);
      if (kind === "local") {
        resticRepo = path.join(server.server.rootDir, prefix);
        resticEnv = {};
      } else {
        // restic reaches the remote through rclone with the product's own rclone.conf (the backup's section).
        ok(await w.cli("backup", "now", "--json")); // writes rclone.conf (and the first snapshot)
        const conf = path.join(productDir(w.stateDir), "rclone.conf");
        const section = /\[([^\]]*backup[^\]]*)\]/.exec(await readFile(conf, "utf8"))?.[1] ?? "cloud";
        resticRepo = `rclone:${section}:${server.pathPrefix}${prefix}`;
        resticEnv = { RCLONE_CONFIG: conf };
      }
    }, 300_000);
    afterAll(async () => {
      await w?.cleanup();
      await server?.stop();
    });

    it("writes a repository restic checks, lists and restores byte for byte", async () => {
      const out = JSON.parse(ok(await w.cli("backup", "now", "--json"))) as Outcome;
      expect(out.format).toBe("repository");
      expect(out.short_id).toBe(out.id.slice(0, 8));
      await r(["check", "--read-data"]);
      const snaps = JSON.parse((await r(["snapshots", "--json"])).stdout) as { id: string; hostname: string; tags: string[]; paths: string[] }[];
      const ours = snaps.find((s) => s.id === out.id)!;
      expect(ours.tags).toContain("openclaw-workspace-sync");
      expect(ours.tags.some((t) => t.startsWith("agent:"))).toBe(true);
      const target = await tempDir("restic-restore");
      await r(["restore", out.id, "--target", target]);
      expect(await readTree(path.join(target, "workspace"))).toEqual(await readTree(w.workspace));
      expect(await readFile(path.join(target, "state", "openclaw.json"), "utf8")).toBe(await readFile(w.configFile, "utf8"));
    });

    it("adds only what changed; restic agrees and our restore gives it back", async () => {
      await appendFile(path.join(w.workspace, "notes", "n2.md"), "one more line\n");
      await writeFile(path.join(w.workspace, "notes", "new.md"), "brand new\n");
      const out = JSON.parse(ok(await w.cli("backup", "now", "--json"))) as Outcome;
      expect(out.storedBytes).toBeLessThan(64 * 1024); // the 6 MiB binary is not stored again
      await r(["check", "--read-data"]);
      const list = JSON.parse(ok(await w.cli("backup", "list", "--json"))) as { snapshots: { id: string; format: string }[] };
      expect(list.snapshots[0]).toMatchObject({ id: out.id, format: "repository" });
      const target = await tempDir("ours-restore");
      ok(await w.cli("backup", "restore", "--snapshot", out.short_id, "--to", target, "-q"));
      expect(await readTree(path.join(target, "workspace"))).toEqual(await readTree(w.workspace));
      ok(await w.cli("backup", "verify", "--snapshot", out.short_id, "--read-data", "-q"));
    });

    it("keeps `retain` snapshots per group; restic check still passes", async () => {
      for (let i = 0; i < 2; i++) {
        await writeFile(path.join(w.workspace, `round-${i}.md`), `round ${i}\n`);
        const quiet = await w.cli("backup", "now", "-q");
        expect(ok(quiet) + quiet.stderr).toBe(""); // -q: nothing on success, as restic
      }
      const list = JSON.parse(ok(await w.cli("backup", "list", "--json"))) as { snapshots: { format: string }[] };
      expect(list.snapshots.filter((s) => s.format === "repository")).toHaveLength(3);
      const snaps = JSON.parse((await r(["snapshots", "--json"])).stdout) as unknown[];
      expect(snaps).toHaveLength(3);
      await r(["check"]);
    });

    it("prune removes what the forgotten snapshots alone used; restic checks it and our restore still works", async () => {
      // The 6 MiB binary leaves the workspace; three more snapshots push every snapshot holding it out of retention.
      await rm(path.join(w.workspace, "model.bin"));
      for (let i = 0; i < 3; i++) {
        await writeFile(path.join(w.workspace, `after-${i}.md`), `after ${i}\n`);
        ok(await w.cli("backup", "now", "-q"));
      }
      const res = await w.cli("backup", "prune", "--json");
      const report = JSON.parse(ok(res)) as { data: { format: string; removed: number; freedBytes: number }[] };
      const mine = report.data.find((d) => d.format === "repository");
      expect(mine?.freedBytes ?? 0).toBeGreaterThan(5 << 20);
      await r(["check", "--read-data"]);
      const target = await tempDir("after-prune");
      ok(await w.cli("backup", "restore", "--to", target, "-q"));
      expect(await readTree(path.join(target, "workspace"))).toEqual(await readTree(w.workspace));
    });

    if (kind === "local") {
      it("deduplicates against restic's own backup of the same files (same blob IDs)", async () => {
        const before = (await r(["stats", "--mode", "raw-data", "--json"])).stdout;
        const theirs = await r(["backup", "--json", w.workspace]);
        const summary = theirs.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.message_type === "summary")!;
        expect(summary.data_blobs).toBe(0); // every chunk restic cut was already there, from our backups
        const after = (await r(["stats", "--mode", "raw-data", "--json"])).stdout;
        expect(JSON.parse(after).total_blob_count - JSON.parse(before).total_blob_count).toBeLessThan(10); // trees only
        // and our next backup into the repository restic wrote to still works
        await writeFile(path.join(w.workspace, "after-restic.md"), "x\n");
        ok(await w.cli("backup", "now", "-q"));
        await r(["check", "--read-data"]);
      });

      it("refuses a wrong passphrase with a clear error and no secret in it", async () => {
        const bad = "wrong passphrase 0000-long-enough";
        await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${bad}\n`, { mode: 0o600 });
        try {
          const res = await w.cli("backup", "now");
          expect(res.code).not.toBe(0);
          expect(res.stderr).toMatch(/password|passphrase/i);
          expect(res.stderr + res.stdout).not.toContain(bad);
          expect(res.stderr).not.toMatch(/\n\s+at /);
        } finally {
          await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
        }
      });

      it("names a tampered pack in verify --read-data", async () => {
        const dataDir = path.join(resticRepo, "data");
        const { readdir } = await import("node:fs/promises");
        const subs = await readdir(dataDir);
        let victim = "";
        let biggest = 0;
        for (const s of subs) {
          for (const f of await readdir(path.join(dataDir, s))) {
            const full = path.join(dataDir, s, f);
            const size = (await readFile(full)).length;
            if (size > biggest) [victim, biggest] = [full, size];
          }
        }
        expect(victim).not.toBe("");
        const original = await readFile(victim);
        const bad = Buffer.from(original);
        bad[100] = bad[100]! ^ 0xff;
        await writeFile(victim, bad);
        try {
          const res = await w.cli("backup", "verify", "--read-data");
          expect(res.code).not.toBe(0);
          expect(res.stdout + res.stderr).toContain(path.basename(victim).slice(0, 8));
        } finally {
          await writeFile(victim, original);
        }
        await r(["check", "--read-data"]);
      });
    }
  });
}

describe("repository format with recipients", () => {
  it("keeps a random password locally and age-encrypted beside the repository; a fresh machine restores with the identity", async () => {
    const server = await backend("local").start();
    try {
      const { generateIdentity } = await import("../../src/backup/crypto/index.js");
      const id = generateIdentity();
      const dir = await tempDir("identity");
      const identityFile = path.join(dir, "key.txt");
      await writeFile(identityFile, `${id.identity}\n`, { mode: 0o600 });
      const prefix = `repo-rcpt-${randomBytes(3).toString("hex")}`;
      const cfg = { ...server.block, prefix, encrypt: true, recipients: [id.recipient], include: ["workspace"], format: "repository" };
      const a = await makeWorld({ backup: cfg });
      await fillWorkspace(a.workspace);
      const out = JSON.parse(ok(await a.cli("backup", "now", "--json"))) as Outcome;
      const repoDir = path.join(server.server.rootDir, prefix);
      const pwFile = path.join(productDir(a.stateDir), "repository-passwords.json");
      const { stat } = await import("node:fs/promises");
      expect((await stat(pwFile)).mode & 0o777).toBe(0o600);
      const password = Object.values(JSON.parse(await readFile(pwFile, "utf8")) as Record<string, string>)[0]!;
      await restic(["check", "--read-data"], { repo: repoDir, password }); // the age copy beside config does not bother restic

      // A fresh machine: no state, only the identity file.
      const b = await makeWorld({ backup: { ...cfg, identityFile } });
      const target = await tempDir("fresh-restore");
      ok(await b.cli("backup", "restore", "--snapshot", out.short_id, "--to", target, "-q"));
      expect(await readTree(path.join(target, "workspace"))).toEqual(await readTree(a.workspace));
      // Without the identity it says what is missing.
      const c = await makeWorld({ backup: cfg });
      const res = await c.cli("backup", "restore", "--snapshot", out.short_id, "--to", await tempDir("no-id"));
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/identity/);
      for (const x of [a, b, c]) await x.cleanup();
      await rm(dir, { recursive: true, force: true });
    } finally {
      await server.stop();
    }
  }, 300_000);
});

describe("two installs and restic share one repository", () => {
  it("backs up into a repository restic created; two installs write at the same time; restic checks it", async () => {
    const server = await backend("local").start();
    try {
      const prefix = `repo-shared-${randomBytes(3).toString("hex")}`;
      const repoDir = path.join(server.server.rootDir, prefix);
      await restic(["init", "--repository-version", "2"], { repo: repoDir, password: PASS });
      const cfg = { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], format: "repository" };
      const worlds = [await makeWorld({ backup: cfg }), await makeWorld({ backup: cfg })];
      for (const [i, w] of worlds.entries()) {
        await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
        await fillWorkspace(w.workspace);
        await writeFile(path.join(w.workspace, "who.md"), `install ${i}\n`);
      }
      // Both at once: shared locks coexist, each run writes its own packs, index files and snapshot.
      const runs = await Promise.all(worlds.map((w) => w.cli("backup", "now", "--json")));
      const outs = runs.map((res) => JSON.parse(ok(res)) as Outcome);
      expect(new Set(outs.map((o) => o.id)).size).toBe(2);
      await restic(["check", "--read-data"], { repo: repoDir, password: PASS });
      const snaps = JSON.parse((await restic(["snapshots", "--json"], { repo: repoDir, password: PASS })).stdout) as { id: string }[];
      expect(snaps.map((s) => s.id).sort()).toEqual(outs.map((o) => o.id).sort());
      // Each install sees its own group by default; its restore gives back its own workspace.
      for (const [i, w] of worlds.entries()) {
        const list = JSON.parse(ok(await w.cli("backup", "list", "--json"))) as { snapshots: { id: string }[] };
        expect(list.snapshots.map((s) => s.id)).toEqual([outs[i]!.id]);
        const target = await tempDir("shared-restore");
        ok(await w.cli("backup", "restore", "--to", target, "-q"));
        expect(await readFile(path.join(target, "workspace", "who.md"), "utf8")).toBe(`install ${i}\n`);
      }
      for (const w of worlds) await w.cleanup();
    } finally {
      await server.stop();
    }
  }, 300_000);
});

describe("retention while another install's backup runs", () => {
  it("forgets under the run's own shared lock: another backup's lock does not keep the old snapshot", async () => {
    const server = await backend("local").start();
    try {
      const prefix = `repo-retain-${randomBytes(3).toString("hex")}`;
      const repoDir = path.join(server.server.rootDir, prefix);
      const w = await makeWorld({ backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 1, format: "repository" } });
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
      await fillWorkspace(w.workspace);
      const first = JSON.parse(ok(await w.cli("backup", "now", "--json"))) as Outcome;

      // Another writer (as a second install's backup would) holds a shared lock for the whole next run.
      const { Repository } = await import("../../src/backup/formats/repository/repository.js");
      const { DirStorage } = await import("../../src/backup/formats/repository/backend-dir.js");
      const other = await Repository.open(new DirStorage(repoDir), PASS);
      const otherLock = await other.lock({ exclusive: false });
      try {
        await writeFile(path.join(w.workspace, "later.md"), "later\n");
        const res = await w.cli("backup", "now", "--json");
        const second = JSON.parse(ok(res)) as Outcome & { pruned?: string[]; warnings?: string[] };
        expect(res.stderr).not.toMatch(/kept for now|locked/);
        expect(second.pruned).toEqual([first.id]);
        // The run's folder records for the next one: local, 0600, encrypted (no folder name readable in them).
        const { readdir, stat } = await import("node:fs/promises");
        const cacheRoot = path.join(productDir(w.stateDir), "repository-cache");
        const repoCache = (await readdir(cacheRoot)).find((n) => /^[0-9a-f]{64}$/.test(n))!;
        const record = path.join(cacheRoot, repoCache, "folders", second.id);
        expect((await stat(record)).mode & 0o777).toBe(0o600);
        expect((await readFile(record)).toString("latin1")).not.toMatch(/notes|deep/);
        const list = JSON.parse(ok(await w.cli("backup", "list", "--json"))) as { snapshots: { id: string }[] };
        expect(list.snapshots.map((s) => s.id)).toEqual([second.id]);
        // The run left no lock of its own: only the other writer's remains.
        expect(await readdir(path.join(repoDir, "locks"))).toEqual([otherLock.id]);
      } finally {
        await otherLock.release();
        await other.close();
      }
      expect(await (await import("node:fs/promises")).readdir(path.join(repoDir, "locks"))).toEqual([]);
      await restic(["check", "--read-data"], { repo: repoDir, password: PASS });
      await w.cleanup();
    } finally {
      await server.stop();
    }
  }, 300_000);
});
