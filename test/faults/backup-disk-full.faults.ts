// Fault case 4, restore: the restore target is a 4 MiB tmpfs, smaller than the snapshot. The restore stops with a
// clear "disk full" error and exit 1, the snapshot on the remote is untouched (same bytes, still verifies), nothing
// on the full disk looks like a restore (no files, no marker-less tree, no staging folder left), and the same
// restore into a big enough folder then succeeds byte for byte. Needs root for the mount: skipped, saying why,
// when mounting is not possible.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomTree, readTree, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { makeWorld } from "../support/world.js";
import { listOf, ok } from "./lib/backup-kit.js";

const PASS = "disk full passphrase 5b2d";

function tryMount(dir: string): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `cannot mount a 4 MiB tmpfs at ${dir} (needs root): ${((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim()}`;
  }
}

function unmount(dir: string): void {
  try {
    execFileSync("umount", [dir], { stdio: "pipe" });
  } catch {
    // not mounted
  }
}

const sha = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

describe("restore onto a full disk", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("local");
  });
  afterAll(async () => {
    await stopAll();
  });

  it("clear disk-full error, exit 1, snapshot untouched, nothing presented as restored; a big enough target then works", async (ctx) => {
    const prefix = `full-${randomBytes(3).toString("hex")}`;
    const w = await makeWorld({ backup: { ...(server.configBlock as object), prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"] } });
    const mnt = path.join(w.root, "small-disk");
    await mkdir(mnt);
    const why = tryMount(mnt);
    try {
      if (why) ctx.skip(why);
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
      // ~7 MiB of incompressible data: the snapshot cannot fit in 4 MiB.
      await randomTree(w.workspace, { files: 14, minSize: 400_000, maxSize: 600_000, seed: 21 });
      ok(await w.cli("backup", "now"));
      const before = await listOf(w);
      const repoDir = path.join(server.rootDir, prefix);
      const object = before.snapshots[0]!.name;
      const objectSha = await sha(path.join(repoDir, object));

      // 1. Into the (empty, existing) mount point itself; 2. into a new folder on it.
      for (const target of [mnt, path.join(mnt, "new-folder")]) {
        const res = await w.cli("backup", "restore", "--to", target);
        expect(res.code, res.stderr).toBe(1);
        expect(res.stderr).toMatch(/ran out of space \(disk full: ENOSPC\)/);
        expect(res.stderr).toMatch(/is fine and unchanged.*nothing was restored/);
        expect(res.stderr).not.toMatch(/^\s+at .+:\d+/m);
        expect(res.stdout).not.toMatch(/^restored /m);
        // Nothing left on the small disk: no partial files, no staging folder, no marker, no new folder.
        expect(await readdir(mnt), `after a restore to ${target}`).toEqual([]);
      }

      // The snapshot on the remote is untouched and still good.
      expect(await sha(path.join(repoDir, object))).toBe(objectSha);
      expect((await listOf(w)).snapshots).toEqual(before.snapshots);
      expect(ok(await w.cli("backup", "verify"))).toMatch(/^ok /m);

      // A big enough target: the same restore succeeds, byte-identical.
      const big = path.join(w.root, "big-disk");
      ok(await w.cli("backup", "restore", "--to", big));
      expect(await readTree(path.join(big, "workspace"))).toEqual(await readTree(w.workspace));
    } finally {
      unmount(mnt);
      await w.cleanup();
    }
  });
});
