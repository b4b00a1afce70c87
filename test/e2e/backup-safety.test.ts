// Acceptance 6, 7 and 8: a wrong passphrase, a truncated object or a flipped byte fail verify and restore with a
// clear message (exit 1) and leave nothing restored; a hostile archive restores nothing outside the target; and
// while a backup runs, the passphrase is in no process's argv or environment.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomTree } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { binPath, startCli } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "the real passphrase 7f3a";

function ok(res: { code: number | null; stdout: string; stderr: string }): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

describe("backup safety (local backend)", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** `viaRclone`: the same folder through an rclone alias remote (a local folder is otherwise written without rclone). */
  async function world(extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}, viaRclone = false): Promise<{ w: World; repoDir: string }> {
    const prefix = `safe-${randomBytes(3).toString("hex")}`;
    const block = viaRclone ? { provider: "custom", custom: { rcloneType: "alias", rcloneOptions: { remote: server.server.rootDir } } } : server.block;
    const w = await makeWorld({ backup: { ...block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], ...extra } }, env);
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    return { w, repoDir: path.join(server.server.rootDir, prefix) };
  }

  const snapshotFile = async (repoDir: string) => path.join(repoDir, (await readdir(repoDir)).find((n) => n.endsWith(".age"))!);

  it("wrong passphrase, truncated object, flipped byte: clear error, exit 1, nothing restored", async () => {
    const { w, repoDir } = await world();
    try {
      await randomTree(w.workspace, { files: 20, maxSize: 200_000, seed: 3 });
      ok(await w.cli("backup", "now"));
      const file = await snapshotFile(repoDir);
      const name = path.basename(file);
      const original = await readFile(file);
      const target = path.join(w.root, "target");
      const expectFailure = async (args: string[], message: RegExp) => {
        const res = await w.cli("backup", ...args);
        expect(res.code, res.stdout + res.stderr).toBe(1);
        expect(res.stderr).toMatch(message);
        expect(res.stderr).not.toContain(PASS);
      };

      await writeFile(path.join(w.stateDir, ".env"), "BACKUP_PASSPHRASE=wrong passphrase\n");
      await expectFailure(["verify"], /wrong passphrase/);
      await expectFailure(["restore", "--to", target], /wrong passphrase.*nothing was restored/);
      await expect(readdir(target)).rejects.toThrow(); // the target it would have created is gone
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`);

      // A flipped byte in the middle: same size, so only authentication can tell.
      const flipped = Buffer.from(original);
      flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
      await writeFile(file, flipped);
      await expectFailure(["verify"], /failed authentication|corrupted/);
      await mkdir(target); // an existing empty target stays empty
      await expectFailure(["restore", "--to", target], /failed authentication|corrupted/);
      expect(await readdir(target)).toEqual([]);

      // Truncated: the listing already sees the size mismatch.
      await writeFile(file, original);
      await truncate(file, original.length - 1000);
      await expectFailure(["verify", "--snapshot", name], /damaged: the stored object is \d+ bytes, the manifest says \d+/);
      await expectFailure(["restore", "--snapshot", name, "--to", target], /damaged/);
      expect(ok(await w.cli("backup", "list"))).toMatch(/DAMAGED backup-/);
      await expectFailure(["verify", "--all"], /failed verification/);

      await writeFile(file, original);
      expect(ok(await w.cli("backup", "verify"))).toMatch(/^ok /m);
    } finally {
      await w.cleanup();
    }
  });

  it("a hostile archive restores nothing outside the target", async () => {
    const { w, repoDir } = await world({ encrypt: false, passphrase: undefined, allowPlaintextSecrets: true });
    const outside = await mkdtemp(path.join(os.tmpdir(), "ws-outside-"));
    try {
      const tar = hostileTar(outside);
      const name = "backup-20260101T000000Z-deadbeef.tar";
      await mkdir(repoDir, { recursive: true });
      await writeFile(path.join(repoDir, name), tar);
      await writeFile(path.join(repoDir, `${name}.manifest.json`), JSON.stringify(manifestFor(name, tar)));
      const target = path.join(w.root, "target");
      // Another host's snapshot is never this install's `latest`: it is restored only when named.
      const latest = await w.cli("backup", "restore", "--to", target);
      expect(latest.code).toBe(1);
      expect(latest.stderr).toMatch(/no snapshot of this install's group .*hosts: attacker/);
      const res = await w.cli("backup", "restore", "--snapshot", name, "--to", target);
      // The safe entries are restored, but a restore that refused entries is not a success: exit 1, every one listed.
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(/5 entries of the snapshot were refused/);
      for (const p of ["../escape.txt", "workspace/link/evil.txt", "workspace/dev", "workspace/hard"]) expect(res.stderr).toContain(JSON.stringify(p));
      const out = res.stdout;
      expect(out).toMatch(/refused 5 unsafe entries: \.\.\/escape\.txt \(".." segment\), .*abs\.txt \(absolute path\), workspace\/link\/evil\.txt \(path leads through a symlink\), workspace\/dev \(.*\), workspace\/hard \(.*\)/);
      expect(await readdir(outside)).toEqual([]);
      await expect(readFile(path.join(w.root, "escape.txt"))).rejects.toThrow();
      await expect(readFile(path.join(outside, "evil.txt"))).rejects.toThrow();
      const restored = await readdir(path.join(target, "workspace"));
      expect(restored).toContain("fine.txt");
      expect(restored).not.toContain("dev");
    } finally {
      await rm(outside, { recursive: true, force: true });
      await w.cleanup();
    }
  });

  /** Runs `backup now` while scanning every process's argv and environment; returns what leaked where. */
  async function watchBackup(exported: boolean, warmVersionCache: boolean): Promise<string[]> {
    // Through rclone: the point is what its children see.
    const { w, repoDir } = await world({}, exported ? { BACKUP_PASSPHRASE: PASS } : {}, true);
    try {
      await randomTree(w.workspace, { files: 12, minSize: 4 << 20, maxSize: 8 << 20, seed: 11 });
      if (warmVersionCache) ok(await w.cli("backup", "list"));
      const { child, done } = startCli(["backup", "now"], { env: w.env });
      const leaks = new Set<string>();
      let sawUpload = false;
      let finished = false;
      void done.then(() => (finished = true));
      while (!finished) {
        for (const pid of await readdir("/proc").catch(() => [])) {
          if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
          const [cmdline, environ] = await Promise.all([readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0)), readFile(`/proc/${pid}/environ`).catch(() => Buffer.alloc(0))]);
          const argv = cmdline.toString();
          if (argv.includes("rcat") && argv.includes(path.basename(repoDir))) sawUpload = true;
          // A child caught between fork and exec is still a copy of the CLI (its argv and environment).
          const preExec = Number(pid) !== child.pid && argv === `${process.execPath}\0${binPath}\0backup\0now\0`;
          const ownEnvironment = exported && (Number(pid) === child.pid || preExec); // put there by the user, not by us
          if (cmdline.includes(PASS)) leaks.add(`argv of ${argv.replace(/\0/g, " ").slice(0, 80)}`);
          if (environ.includes(PASS) && !ownEnvironment) leaks.add(`environment of ${argv.replace(/\0/g, " ").slice(0, 80)}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      const res = await done;
      expect(res.code, res.stderr).toBe(0);
      expect(sawUpload).toBe(true);
      expect(res.stdout + res.stderr).not.toContain(PASS);
      for (const file of [path.join(w.stateDir, "workspace-sync", "backup-state.json"), path.join(w.stateDir, "workspace-sync", "rclone.conf")]) {
        expect(await readFile(file, "utf8")).not.toContain(PASS);
      }
      const manifest = (await readdir(repoDir)).find((n) => n.endsWith(".manifest.json"))!;
      expect(await readFile(path.join(repoDir, manifest), "utf8")).not.toContain(PASS);
      return [...leaks];
    } finally {
      await w.cleanup();
    }
  }

  it("the passphrase (from <stateDir>/.env) is in no process's argv or environment while a backup runs, nor in logs or files", async () => {
    expect(await watchBackup(false, false)).toEqual([]);
  });

  it("an exported passphrase stays out of every child's environment (rclone version already detected)", async () => {
    expect(await watchBackup(true, true)).toEqual([]);
  });

  it("an exported passphrase stays out of `rclone version` on a cold version cache", async () => {
    expect(await watchBackup(true, false)).toEqual([]);
  });
});

// --- a hand-made hostile tar -----------------------------------------------------------------------------------

function header(name: string, type: string, size: number, linkname = ""): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100);
  b.write("0000644\0", 100);
  b.write("0000000\0", 108);
  b.write("0000000\0", 116);
  b.write(size.toString(8).padStart(11, "0") + "\0", 124);
  b.write("15000000000\0", 136);
  b.write("        ", 148);
  b.write(type, 156);
  b.write(linkname, 157, 100);
  b.write("ustar\0" + "00", 257);
  if (type === "3") b.write("0000001\0", 329);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return b;
}

function file(name: string, content: string): Buffer[] {
  const data = Buffer.from(content);
  return [header(name, "0", data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512)];
}

function hostileTar(outside: string): Buffer {
  return Buffer.concat([
    header("workspace/", "5", 0),
    ...file("workspace/fine.txt", "fine\n"),
    ...file("../escape.txt", "escaped\n"),
    ...file(`${outside}/abs.txt`, "absolute\n"),
    header("workspace/link", "2", 0, outside),
    ...file("workspace/link/evil.txt", "through the symlink\n"),
    header("workspace/dev", "3", 0),
    header("workspace/hard", "1", 0, "/etc/passwd"),
    Buffer.alloc(1024),
  ]);
}

function manifestFor(name: string, data: Buffer) {
  return {
    format: "openclaw-workspace-sync/backup",
    version: 1,
    snapshot: name,
    created: "2026-01-01T00:00:00.000Z",
    finished: "2026-01-01T00:00:01.000Z",
    host: "attacker",
    agent: "x",
    product: { name: "openclaw-workspace-sync", version: "0" },
    roots: {},
    items: [],
    missingItems: [],
    missing: [],
    databases: [],
    files: 2,
    dirs: 1,
    symlinks: 1,
    bytes: 0,
    stored: { size: data.length, sha256: createHash("sha256").update(data).digest("hex") },
    compression: "none",
    encryption: { scheme: "none" },
    fingerprint: "",
    warnings: [],
  };
}


