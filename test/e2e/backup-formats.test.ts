// Acceptance 4 and 5: snapshots open with standard tools on a fresh machine (age CLI + zstd + tar, both with an
// identity file and with a passphrase typed into `age -p`'s terminal), and the older plugin's `openssl enc`
// snapshots are listed as legacy, verified, restored identically, and pruned only when asked.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTree, readTree } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { testEnv } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";

const run = promisify(execFile);
const PASS = "legacy and age passphrase";

function ok(res: { code: number | null; stdout: string; stderr: string }): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

/** Runs a shell pipeline with the passphrase in the environment of openssl only. */
function sh(script: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-o", "pipefail", "-c", script], { env: { ...testEnv(), ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited ${code}: ${err}`))));
  });
}

const SAMPLE = {
  "notes.md": "# notes\n",
  "project/plan.txt": "plan v1\n",
  "bin/data.bin": randomBytes(100_000),
};

describe("standard tools and legacy snapshots (local backend)", () => {
  let server: StartedBackend;
  let w: World;
  let repoDir: string;
  const prefix = `fmt-${randomBytes(3).toString("hex")}`;

  beforeAll(async () => {
    server = await backend("local").start();
    repoDir = path.join(server.server.rootDir, prefix);
  });
  afterAll(async () => {
    await w?.cleanup();
    await server?.stop();
  });

  it("a snapshot made for age recipients decrypts with `age -d -i KEY` and unpacks with zstd and tar", async () => {
    const keyDir = await mkdtemp(path.join(server.server.rootDir, "..", "key-"));
    const keyFile = path.join(keyDir, "key.txt");
    await run("age-keygen", ["-o", keyFile]);
    const recipient = (await run("age-keygen", ["-y", keyFile])).stdout.trim();
    w = await makeWorld({ backup: { ...server.block, prefix, encrypt: true, recipients: [recipient], include: ["workspace"] } });
    await makeTree(w.workspace, SAMPLE);
    ok(await w.cli("backup", "now"));
    const [snapshot] = (await readdir(repoDir)).filter((n) => n.endsWith(".tar.zst.age"));

    // The gateway never holds the secret key: restoring needs it.
    const refused = await w.cli("backup", "restore", "--dry-run");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/encrypted to age recipients: pass --identity FILE/);
    expect(ok(await w.cli("backup", "verify", "--identity", keyFile))).toMatch(/^ok /m);

    // The manual recovery recipe of docs/backup.md, on standard tools only.
    const out = path.join(w.root, "manual");
    await mkdir(out);
    await sh(`age -d -i '${keyFile}' '${path.join(repoDir, snapshot!)}' | zstd -d | tar -x -C '${out}'`);
    expect(await readTree(path.join(out, "workspace"))).toEqual(await readTree(w.workspace));
  });

  it("a passphrase snapshot decrypts with `age -d` (passphrase typed into its terminal)", async () => {
    const pw = await makeWorld({ backup: { ...server.block, prefix: `${prefix}-pw`, encrypt: true, passphrase: PASS, include: ["workspace"] } });
    try {
      await makeTree(pw.workspace, SAMPLE);
      ok(await pw.cli("backup", "now"));
      const dir = path.join(server.server.rootDir, `${prefix}-pw`);
      const [snapshot] = (await readdir(dir)).filter((n) => n.endsWith(".age"));
      const plain = path.join(pw.root, "plain.tar.zst");
      // `age -p`/`-d` read passphrases only from a terminal: drive it through a pty with script(1).
      await sh(`(sleep 1; printf '%s\\n' "$P") | script -qec "age -d -o '${plain}' '${path.join(dir, snapshot!)}'" /dev/null`, { P: PASS });
      const out = path.join(pw.root, "out");
      await mkdir(out);
      await sh(`zstd -dc '${plain}' | tar -x -C '${out}'`);
      expect(await readTree(path.join(out, "workspace"))).toEqual(await readTree(pw.workspace));
    } finally {
      await pw.cleanup();
    }
  });

  it("legacy openssl snapshots are listed, verified, restored identically, and pruned only when asked", async () => {
    // The older plugin's pipeline, reproduced with the openssl CLI, next to an unencrypted legacy snapshot.
    const legacyWs = path.join(w.root, "legacy-ws");
    await makeTree(legacyWs, { ...SAMPLE, "old/only-in-legacy.txt": "old\n" });
    const enc = "backup-20250310T020000Z.tar.gz.enc";
    const plain = "backup-20250101T000000Z.tar.gz";
    await sh(`tar -C '${legacyWs}' -cz . | openssl enc -aes-256-cbc -salt -pbkdf2 -iter 100000 -pass env:P > '${path.join(repoDir, enc)}'`, { P: PASS });
    await sh(`tar -C '${legacyWs}' -cz . > '${path.join(repoDir, plain)}'`);
    await w.writeConfig({ backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 1 } });

    // Wrong passphrase first: a clear error, exit 1, nothing restored.
    await writeFile(path.join(w.stateDir, ".env"), "BACKUP_PASSPHRASE=not the passphrase\n");
    const wrong = await w.cli("backup", "restore", "--snapshot", enc, "--to", path.join(w.root, "wrong"));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/cannot (decrypt|decompress).*wrong passphrase/);
    await expect(readdir(path.join(w.root, "wrong"))).rejects.toThrow();

    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`);
    const list = JSON.parse(ok(await w.cli("backup", "list", "--json"))) as { legacy: { name: string; encrypted: boolean }[] };
    expect(list.legacy).toEqual([expect.objectContaining({ name: enc, encrypted: true }), expect.objectContaining({ name: plain, encrypted: false })]);
    expect(ok(await w.cli("backup", "list"))).toMatch(/backup-20250310T020000Z\.tar\.gz\.enc .* legacy \(older plugin, openssl\)/);
    expect(ok(await w.cli("backup", "verify", "--snapshot", enc))).toMatch(/^ok .*\(legacy\): 4 files/m);

    for (const name of [enc, plain]) {
      const to = path.join(w.root, `restored-${name}`);
      ok(await w.cli("backup", "restore", "--snapshot", name, "--to", to));
      expect(await readTree(to)).toEqual(await readTree(legacyWs));
    }

    // Retention (retain 1) commits a new snapshot and prunes, but never a legacy one...
    ok(await w.cli("backup", "now"));
    ok(await w.cli("backup", "now"));
    let names = await readdir(repoDir);
    expect(names).toEqual(expect.arrayContaining([enc, plain]));
    // ...unless asked.
    const dry = ok(await w.cli("backup", "prune", "--include-legacy", "--dry-run"));
    expect(dry).toMatch(/would remove 2 snapshot/);
    ok(await w.cli("backup", "prune", "--include-legacy"));
    names = await readdir(repoDir);
    expect(names.filter((n) => n.includes(".tar.gz"))).toEqual([]);
    expect(names.filter((n) => n.endsWith(".manifest.json"))).toHaveLength(1);
  });
});
