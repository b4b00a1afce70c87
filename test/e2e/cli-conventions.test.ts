// The conventions scripts and people expect from a command line tool (rclone's and restic's): --version, usage
// errors in two lines, -q silent on success for every command, -v showing each rclone command with its duration,
// time-stamped lines when stderr is a log, and no stack trace when the reader of a pipe goes away.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend, type StartedBackend } from "../support/backends.js";
import { binPath, repoRoot, runCli } from "../support/cli.js";
import { writeTree } from "../support/tree.js";
import { makeWorld } from "../support/world.js";

const exec = promisify(execFile);
const TOKEN = JSON.stringify({ access_token: "FAKE-ACCESS", token_type: "bearer", refresh_token: "FAKE-REFRESH", expiry: "2030-01-01T00:00:00Z" });

describe("CLI conventions", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => server?.stop());

  it("--version and -V: the product's version, Node's and rclone's", async () => {
    const pkg = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
    for (const args of [["--version"], ["-V"], ["--state-dir", "/nonexistent", "--version"]]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^workspace-sync ${pkg.version.replace(/\./g, "\\.")}\\n`));
      expect(r.stdout).toContain(`node ${process.version}`);
      expect(r.stdout).toMatch(/^rclone 1\.\d+/m);
    }
  });

  it("usage errors: the error and one hint line pointing at the command's --help, not the whole help (exit 2)", async () => {
    const cases: [string[], RegExp, string][] = [
      [["sync", "--direction", "sideways"], /argument 'sideways' is invalid/, "see 'workspace-sync sync --help'"],
      [["sync", "--no-such-flag"], /unknown option '--no-such-flag'/, "see 'workspace-sync sync --help'"],
      [["nonsense"], /unknown command 'nonsense'/, "see 'workspace-sync --help'"],
      [["schedule", "install", "--using", "launchd"], /argument 'launchd' is invalid/, "see 'workspace-sync schedule install --help'"],
      [["backup", "restore", "--bogus"], /unknown option '--bogus'/, "see 'workspace-sync backup restore --help'"],
      [["backup", "diff", "latest"], /missing required argument 'b'/, "see 'workspace-sync backup diff --help'"],
      [["backup", "restore", "--to"], /option '--to <dir>' argument missing/, "see 'workspace-sync backup restore --help'"],
      [["backup", "nope"], /^error: unknown command 'nope' \(did you mean now\?\)$/, "see 'workspace-sync backup --help'"],
      [["sync", "--dryrun"], /^error: unknown option '--dryrun' \(did you mean --dry-run\?\)$/, "see 'workspace-sync sync --help'"],
      // found by the command's own code, shown the same way
      [["sync", "--resync", "--direction", "push"], /--resync and --direction cannot be combined/, "see 'workspace-sync sync --help'"],
    ];
    for (const [args, error, hint] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines, args.join(" ")).toHaveLength(2);
      expect(lines[0]).toMatch(error);
      expect(lines[1]).toBe(hint);
      expect(r.stdout + r.stderr).not.toContain("Usage:");
    }
  });

  it("-q prints nothing on success, for every command (--json output is still printed)", async () => {
    const w = await makeWorld({ sync: { ...server.block, mode: "mailbox", remotePath: "quiet", interval: 0 } });
    const setupWorld = await makeWorld();
    try {
      await writeTree(w.workspace, { "a.txt": "a" });
      const silent = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
        const r = await runCli([...args, "-q"], { env });
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
        expect({ args, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, stdout: "", stderr: "" });
      };
      await silent(w.env, "sync");
      await silent(w.env, "sync", "--dry-run");
      await silent(w.env, "list", "-R");
      await silent(w.env, "status");
      const json = await runCli(["status", "-q", "--json"], { env: w.env });
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).needsAttention).toEqual([]);
      const pasted = `Paste the following into your remote machine --->\n${TOKEN}\n<---End paste\n`;
      const auth = await runCli(["authorize", "--provider", "gdrive", "--paste", "-q"], { env: w.env, input: pasted });
      expect({ code: auth.code, out: auth.stdout + auth.stderr }).toEqual({ code: 0, out: "" });
      await silent(w.env, "schedule", "status");
      await silent(
        { ...setupWorld.env, BACKUP_PASSPHRASE: "correct horse battery staple 42" },
        "setup", "--yes", "--provider", "local", "--local-folder", path.join(setupWorld.root, "nas"), "--mode", "mirror", "--backup-encrypt", "passphrase",
      );
    } finally {
      await w.cleanup();
      await setupWorld.cleanup();
    }
  });

  it("backup: -q prints nothing on success (listings and previews still print), -v shows each rclone command and its time", async () => {
    const w = await makeWorld(
      { backup: { ...server.block, prefix: "quiet-backups", encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 5 } },
      { BACKUP_PASSPHRASE: "a-very-secret-backup-passphrase" },
    );
    try {
      await writeTree(w.workspace, { "a.txt": "a", "notes/b.md": "b" });
      const silent = async (...args: string[]) => {
        const r = await w.cli(...args, "-q");
        expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 0, stdout: "", stderr: "" });
      };
      await silent("backup", "now");
      await silent("backup", "verify");
      await silent("backup", "restore", "--to", path.join(w.root, "restored"));
      await silent("backup", "export", "--to", path.join(w.root, "snap.tar.zst.age"));
      await silent("backup", "prune");
      // asked-for output is the command's result: printed under -q too
      const list = await w.cli("backup", "list", "-q");
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/[0-9a-f]{8}/);
      const preview = await w.cli("backup", "restore", "--dry-run", "--to", path.join(w.root, "preview"), "-q");
      expect(preview.code, preview.stderr).toBe(0);
      expect(preview.stdout).toContain("notes/b.md");
      const json = JSON.parse((await w.cli("backup", "now", "-q", "--json")).stdout) as { short_id?: string };
      expect(json.short_id).toMatch(/^[0-9a-f]{8}$/);
      // -v on a local folder: what is written where, without rclone; the passphrase nowhere
      const direct = await w.cli("backup", "now", "-v");
      expect(direct.code, direct.stderr).toBe(0);
      expect(direct.stderr).toMatch(/debug: write: into \S+quiet-backups directly \(a local folder: no rclone\)/);
      expect(direct.stderr).toMatch(/debug: wrote backup-\S+ \(\d+ bytes\) in \d+\.\ds/);
      expect(direct.stdout + direct.stderr).not.toContain("a-very-secret-backup-passphrase");
      // -v through rclone (the same folder behind an alias remote): the rclone commands with their durations
      await w.writeConfig({
        backup: { provider: "custom", custom: { rcloneType: "alias", rcloneOptions: { remote: server.server.rootDir } }, prefix: "quiet-backups", encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 5 },
      });
      const v = await w.cli("backup", "now", "-v");
      expect(v.code, v.stderr).toBe(0);
      expect(v.stderr).toMatch(/debug: run: rclone \S+ /);
      expect(v.stderr).toMatch(/debug: rclone \S+ ended in \d+\.\ds \(exit 0\)/);
      expect(v.stdout + v.stderr).not.toContain("a-very-secret-backup-passphrase");
      const plain = await w.cli("backup", "now");
      expect(plain.stderr).not.toContain("run: rclone");
      expect(plain.stderr).not.toContain("debug:");
    } finally {
      await w.cleanup();
    }
  });

  it("-v shows every rclone command with its duration; lines carry the time when stderr is not a terminal", async () => {
    const w = await makeWorld(
      { sync: { ...server.block, mode: "mirror", remotePath: "verbose", crypt: { password: "${CRYPT_PW}" } } },
      { CRYPT_PW: "very-secret-crypt-password" },
    );
    try {
      await writeTree(w.workspace, { "a.txt": "a" });
      const r = await w.cli("sync", "-v");
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.trim().split("\n");
      expect(lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[workspace-sync\] /.test(l)), r.stderr).toBe(true);
      const runs = lines.filter((l) => / debug: run: rclone /.test(l));
      expect(runs.length).toBeGreaterThan(0);
      expect(r.stderr).toMatch(/debug: run: rclone \S+ .*--config \S+rclone\.conf/);
      expect(r.stderr).toMatch(/debug: rclone \S+ ended in \d+\.\ds \(exit 0\)/);
      expect(r.stderr).not.toContain("very-secret-crypt-password");
      // without -v none of it
      const plain = await w.cli("sync");
      expect(plain.stderr).not.toContain("run: rclone");
    } finally {
      await w.cleanup();
    }
  });

  it("piped into head: the run ends quietly with exit 0 when the reader goes away, no EPIPE trace", async () => {
    const w = await makeWorld({ sync: { ...server.block, mode: "mirror", remotePath: "many" } });
    try {
      // enough lines to overflow the pipe buffer after head has gone
      const dir = path.join(server.server.rootDir, "many");
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: 3000 }, (_, i) => writeFile(path.join(dir, `file-with-a-longish-name-${String(i).padStart(5, "0")}.txt`), "x")));
      const script = `set -o pipefail; "${process.execPath}" "${binPath}" list -R | head -n 2; echo "exit=\${PIPESTATUS[0]}" >&2`;
      const { stdout, stderr } = await exec("bash", ["-c", script], { env: w.env, maxBuffer: 1 << 24 });
      expect(stdout.trim().split("\n")).toHaveLength(2);
      expect(stderr.trim()).toBe("exit=0");
    } finally {
      await w.cleanup();
    }
  });
});
