// The remote goes away during `backup restore` from a repository over sftp. rclone 1.60's sftp backend then retries
// each read for ~30 s (and its connection pool may never recover), and the product retried each of those: a restore
// that failed after 3–5 minutes with "Stream closed with error code NGHTTP2_PROTOCOL_ERROR". A restore must end soon
// with a message that says the remote could not be reached, and nothing restored; a remote that is down from the
// start is not reported as a damaged repository.
import { randomBytes } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { randomTree, startServer, stopAll } from "../helpers/servers.js";
import { startCli } from "../support/cli.js";
import { makeWorld } from "../support/world.js";
import { expectNoRcloneLeft, ok, sleep } from "./lib/backup-kit.js";

const PASS = "restore remote down passphrase 5e1";

afterAll(async () => {
  await stopAll();
});

describe("repository restore while the sftp server goes down", () => {
  it("mid-read and before the start: exit 1 soon, 'could not be reached', nothing restored, never 'damaged'", { timeout: 400_000 }, async () => {
    const server = await startServer("sftp");
    const prefix = `rrd-${randomBytes(3).toString("hex")}`;
    const w = await makeWorld({ backup: { ...(server.configBlock as object), prefix, format: "repository", encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 3 } });
    try {
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
      await randomTree(w.workspace, { files: 30, maxSize: 100_000, seed: 3 });
      await randomTree(path.join(w.workspace, "big"), { files: 2, minSize: 12 << 20, maxSize: 12 << 20, seed: 9 });
      ok(await w.cli("backup", "now"));

      for (const [label, delay] of [["mid-read", 2_000], ["down from the start", 0]] as const) {
        const target = path.join(w.root, `out-${delay}`);
        if (delay === 0) await server.kill();
        const run = startCli(["backup", "restore", "--to", target], { env: { ...w.env, RCLONE_BWLIMIT: "3M" } });
        if (delay > 0) {
          await sleep(delay);
          await server.kill();
        }
        const t0 = Date.now();
        const res = await run.done;
        const took = Date.now() - t0;
        expect(res.code, `${label}: ${res.stderr}`).toBe(1);
        expect(res.stderr, label).toMatch(/could not be reached/);
        expect(res.stderr, label).not.toMatch(/damaged/);
        expect(res.stderr, label).not.toMatch(/^\s+at .+:\d+/m);
        expect(res.stderr.includes(PASS), label).toBe(false);
        // rclone alone retries a read of the vanished server for ~30 s; the product adds one short probe, no retries.
        expect(took, `${label}: ended soon after the server went away`).toBeLessThan(120_000);
        const restored = await readdir(target, { recursive: true }).catch(() => [] as string[]);
        expect(restored, `${label}: nothing presented as restored`).toEqual([]);
        await expectNoRcloneLeft(w);
        await server.restart();
      }
    } finally {
      await w.cleanup();
      await server.dispose();
    }
  });
});
