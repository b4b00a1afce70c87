// Fault case 3, backup variant: the sftp or S3 server goes away mid-upload. The run fails with exit 1 and a clear
// message, the failure is recorded (`backup status --json`), no snapshot is listed, and once the server is back the
// next `backup now` succeeds without manual steps and removes the interrupted upload's leftovers.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { randomTree, readTree, startServer, stopAll, type ServerKind } from "../helpers/servers.js";
import { runCli, startCli } from "../support/cli.js";
import { makeWorld } from "../support/world.js";
import { childrenOf, expectNoOrphans, expectNoRcloneLeft, expectRestoreLatest, listOf, ok, sleep, waitFor } from "./lib/backup-kit.js";

const PASS = "remote down passphrase 77e1";
/** Slow enough that the server can be stopped while the data object is still being uploaded. */
const SLOW = { RCLONE_BWLIMIT: "4M" };

interface StatusJson {
  state: { lastRun: { ok: boolean; error?: string }; pending: string[]; errors: { message: string }[] };
}

afterAll(async () => {
  await stopAll();
});

// rclone 1.60 gives up on a vanished sftp server within seconds; on a vanished S3 endpoint it retries for about three
// minutes (aws-sdk retries inside rclone's low-level retries) without moving. There the stall watch ends it: after
// 45 s of quiet its probe of the endpoint is refused, and rclone is stopped as "could not be reached". backup.timeout
// (60 s here, 3600 by default) is the backstop on a loaded machine; either way the product stops rclone (TERM, then
// KILL) and records the failure the same way.
const CASES: { kind: ServerKind; timeout?: number; error: RegExp }[] = [
  { kind: "sftp", error: /^workspace-sync: backup failed \(no snapshot was committed\): rclone rcat failed/m },
  {
    kind: "s3",
    timeout: 60,
    error: /^workspace-sync: backup (failed \(no snapshot was committed\): rclone rcat (failed|lost its connection to the remote and stopped making progress, so it was stopped — the remote could not be reached)|timed out after 60s \(backup\.timeout\) and was stopped; no snapshot was committed)/m,
  },
];

describe.concurrent.each(CASES)("backup while the $kind server goes down", ({ kind, timeout, error }) => {
  it("exit 1 with a clear error, failure recorded, nothing listed; the next run after the restart succeeds and cleans up", { timeout: 180_000 }, async () => {
    const server = await startServer(kind);
    const prefix = `down-${randomBytes(3).toString("hex")}`;
    const w = await makeWorld({ backup: { ...(server.configBlock as object), prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 3, ...(timeout ? { timeout } : {}) } });
    const root = server.remoteRoot.replace(/\/+$/, "");
    const repo = `cloud-backup:${root ? `${root}/` : ""}${prefix}`;
    const t0 = Date.now();
    const tick = (m: string) => process.env.FAULTS_DEBUG && console.log(`${kind}: ${m} at ${Date.now() - t0} ms`);
    try {
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
      await randomTree(w.workspace, { files: 10, maxSize: 100_000, seed: 3 });
      await randomTree(path.join(w.workspace, "big"), { files: 1, minSize: 12 << 20, maxSize: 12 << 20, seed: 9 });
      await writeFile(path.join(w.workspace, "marker.txt"), "generation 1");
      const first = await readTree(w.workspace);
      ok(await w.cli("backup", "now"));
      const before = await listOf(w);
      tick("first backup");

      await writeFile(path.join(w.workspace, "marker.txt"), "generation 2");
      const repoDir = path.join(server.rootDir, prefix);
      const existing = new Set(await readdir(repoDir).catch(() => [] as string[]));
      const run = startCli(["backup", "now"], { env: { ...w.env, ...SLOW } });
      let ended = false;
      void run.done.then(() => (ended = true));
      // The data object's upload is under way: stop the server under it.
      const uploading = await waitFor(() => ended || childrenOf(run.child.pid!).some((pid) => readCmd(pid).includes("rcat")), 60_000, 5);
      expect(uploading && !ended, "the upload started").toBe(true);
      // sftp writes under the final name: wait for the cut-to-be object's first bytes on the server's disk (the
      // encryption's key derivation and a loaded machine can hold them back), then let some more go out.
      const newBytes = async () => {
        for (const n of await readdir(repoDir).catch(() => [] as string[])) {
          if (existing.has(n) || !n.startsWith("backup-") || n.endsWith(".manifest.json")) continue;
          if (((await stat(path.join(repoDir, n)).catch(() => undefined))?.size ?? 0) > 0) return true;
        }
        return false;
      };
      if (kind === "sftp") expect(await waitFor(newBytes, 30_000), "bytes of the new object on the server").toBe(true);
      await sleep(700);
      expect(ended, "still uploading when the server stops").toBe(false);
      await server.stop();
      tick("server stopped");
      const res = await run.done;
      tick("failed run over");

      // Clear error, exit 1, no stack trace, no secret.
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(error);
      expect(res.stderr).not.toMatch(/^\s+at .+:\d+/m);
      expect(res.stderr).not.toContain(PASS);
      await expectNoRcloneLeft(w);

      // The failure is recorded for `backup status` (no remote call needed).
      const status = JSON.parse(ok(await w.cli("backup", "status", "--json"))) as StatusJson;
      expect(status.state.lastRun.ok).toBe(false);
      expect(status.state.lastRun.error).toMatch(/no snapshot was committed/);
      expect(status.state.errors.at(-1)!.message).toBe(status.state.lastRun.error);
      expect(status.state.pending.length, "the interrupted upload is remembered for cleanup").toBe(1);

      // While the server is down, listing fails clearly too (fewer rclone retries: only the outcome matters here).
      const down = await runCli(["backup", "list"], { env: { ...w.env, RCLONE_LOW_LEVEL_RETRIES: "1", RCLONE_RETRIES: "1" } });
      expect(down.code, down.stderr).toBe(1);
      expect(down.stderr).toMatch(/^workspace-sync: /m);

      tick("checked while down");
      await server.restart();
      tick("restarted");
      const after = await listOf(w);
      expect(after.snapshots, "no snapshot from the interrupted run").toEqual(before.snapshots);
      // sftp writes under the final name: the cut upload is there, counted as a leftover and never listed (S3 keeps an
      // unfinished multipart upload out of the listing altogether).
      if (kind === "sftp") expect(after.leftovers, "the partial upload is a leftover").toBe(1);
      await expectRestoreLatest(w, first, "latest is the previous good snapshot");

      // No manual step: the next run cleans up what the interrupted one left and commits.
      const next = ok(await w.cli("backup", "now"));
      tick("next backup");
      expect(next).toMatch(/committed/);
      if (kind === "sftp") expect(next).toMatch(/removed 1 leftover object/);
      const clean = await listOf(w);
      expect(clean.snapshots.length).toBe(before.snapshots.length + 1);
      await expectNoOrphans(w, repo, clean, `${kind}: after the restart`);
      const recovered = JSON.parse(ok(await w.cli("backup", "status", "--json"))) as StatusJson;
      expect(recovered.state.lastRun.ok).toBe(true);
      expect(recovered.state.pending).toEqual([]);
      await expectRestoreLatest(w, await readTree(w.workspace), "latest is the new snapshot");
    } finally {
      await w.cleanup();
      await server.dispose();
    }
  });
});

function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}
