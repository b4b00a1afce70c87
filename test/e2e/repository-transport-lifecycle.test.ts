// The repository's rclone session over sftp (rclone 1.60 stages saves there, moved by the session's own rclone through
// its remote control) lives no longer than the command: the read commands start it while the folder is listed, also
// when the folder turns out to hold no repository yet, and every command ends it, and removes its rc password file.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBackupJob } from "../../src/app/backup-job.js";
import { loadContext } from "../../src/app/context.js";
import { listSnapshots, restoreSnapshot } from "../../src/backup/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "transport lifecycle passphrase 7c2e";

/** The `rclone serve restic` processes whose command line names `prefix`. */
function servesOf(prefix: string): string[] {
  try {
    return execFileSync("pgrep", ["-f", `serve restic --stdio .*${prefix}`]).toString().trim().split("\n").filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** rc password files anywhere under the state dir. */
async function passwordFiles(stateDir: string): Promise<string[]> {
  const all = await readdir(stateDir, { recursive: true }).catch(() => [] as string[]);
  return all.filter((f) => /rc-[0-9a-f]+\.htpasswd$/.test(f));
}

describe("the repository's rclone session over sftp lives no longer than the command", () => {
  let server: StartedBackend;
  let w: World;
  let prefix: string;

  beforeAll(async () => {
    server = await backend("sftp").start();
    prefix = `life-${randomBytes(3).toString("hex")}`;
    w = await makeWorld({ backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], format: "repository" } });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    await mkdir(path.join(w.workspace, "notes"), { recursive: true });
    await writeFile(path.join(w.workspace, "notes", "a.md"), "# a\n".repeat(200));
  }, 120_000);
  afterAll(async () => {
    await w?.cleanup();
    await server?.stop();
  });

  it("a list of a folder that holds no repository yet leaves no rclone and no password file", async () => {
    const job = await buildBackupJob(await loadContext({}, w.env, silentLogger));
    const listed = await listSnapshots(job);
    expect(listed.snapshots).toEqual([]);
    expect(servesOf(prefix)).toEqual([]);
    expect(await passwordFiles(w.stateDir)).toEqual([]);
  });

  it("a backup, then a restore, each end their session and remove its password file; the files come back", async () => {
    const backedUp = await w.cli("backup", "now", "-q");
    expect(backedUp.code, backedUp.stderr).toBe(0);
    expect(servesOf(prefix)).toEqual([]);
    expect(await passwordFiles(w.stateDir)).toEqual([]);
    const job = await buildBackupJob(await loadContext({}, w.env, silentLogger));
    const to = path.join(w.root, "restored");
    await restoreSnapshot(job, { to });
    expect(servesOf(prefix)).toEqual([]);
    expect(await passwordFiles(w.stateDir)).toEqual([]);
    expect(await readFile(path.join(to, "workspace", "notes", "a.md"), "utf8")).toBe("# a\n".repeat(200));
  });
});
