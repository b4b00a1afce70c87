// A large file rewritten (truncated) while a backup streams it: the snapshot must fail with a message naming the
// file, commit nothing, and the next run must succeed — never a success code over a snapshot padded with zeros.
import { randomBytes } from "node:crypto";
import { truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { runCli } from "../support/cli.js";
import { killWorld, listOf, ok, uploadStarted, waitFor } from "./lib/backup-kit.js";

describe("a file that shrinks while it is archived", () => {
  let local: TestServer;
  beforeAll(async () => {
    local = await startServer("local");
  });
  afterAll(async () => {
    await stopAll();
  });

  it("fails the backup (exit 1, the file named, nothing committed); the next backup commits", async () => {
    // Through rclone (an alias to the local folder), so that its bandwidth limit holds the packer mid-file.
    const s = await killWorld(local, 2, { viaRclone: true });
    const { w } = s;
    try {
      // 24 MiB of incompressible data at 2 MB/s: the packer is held mid-file by the upload's backpressure.
      const big = path.join(w.workspace, "growing.log");
      await writeFile(big, randomBytes(24 << 20));
      const run = runCli(["backup", "now"], { env: { ...w.env, RCLONE_BWLIMIT: "2M" } });
      await waitFor(uploadStarted(s.repoDir), 60_000);
      await truncate(big, 1 << 20);
      const res = await run;
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(/growing\.log shrank from 25165824 to \d+ bytes/);
      expect(res.stderr).toMatch(/no snapshot was committed/);
      expect((await listOf(w)).snapshots).toHaveLength(0);

      ok(await w.cli("backup", "now"));
      expect((await listOf(w)).snapshots).toHaveLength(1);
      ok(await w.cli("backup", "verify"));
    } finally {
      await w.cleanup();
    }
  });
});
