// Custom rclone options copied from an existing rclone.conf carry passwords already obscured: the product must take
// them as rclone's own `config create` does (a value that reveals cleanly is obscured already), not obscure them a
// second time (which made every login fail). Checked against a real `rclone serve sftp` with a password.
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RCLONE_BIN, readTree, startServer, type SftpServer } from "../helpers/servers.js";
import { makeWorld } from "../support/world.js";

describe("an sftp password given obscured (as in an rclone.conf)", () => {
  let server: SftpServer;
  beforeAll(async () => {
    server = await startServer("sftp");
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it("logs in for sync and backup, and is written to rclone.conf as given", async () => {
    const obscured = server.rcloneSection.pass!;
    expect(obscured).not.toBe(server.password);
    const options = { ...server.rcloneSection };
    delete options.type;
    const block = { provider: "custom", custom: { rcloneType: "sftp", rcloneOptions: options } };
    const w = await makeWorld({
      sync: { ...block, mode: "mailbox", remotePath: "obscured-share" },
      backup: { ...block, prefix: "obscured-backups", encrypt: false, include: ["workspace"] },
    });
    try {
      await writeFile(path.join(w.workspace, "notes.md"), "n\n");
      const sync = await w.cli("sync");
      expect(sync.code, sync.stderr).toBe(0);
      expect(Object.keys(await readTree(path.join(server.rootDir, "obscured-share")))).toEqual(["notes.md"]);
      const backup = await w.cli("backup", "now");
      expect(backup.code, backup.stderr).toBe(0);
      const conf = await readFile(path.join(w.stateDir, "workspace-sync", "rclone.conf"), "utf8");
      const written = [...conf.matchAll(/^pass = (.*)$/gm)].map((m) => m[1]!);
      expect(written).toEqual([obscured, obscured]);
      expect(execFileSync(RCLONE_BIN, ["reveal", "--", written[0]!]).toString().trim()).toBe(server.password);
      // The plain password keeps working (obscured once by the product).
      await w.writeConfig({ sync: { ...server.configBlock, mode: "mailbox", remotePath: "obscured-share" } });
      const plain = await w.cli("sync");
      expect(plain.code, plain.stderr).toBe(0);
    } finally {
      await w.cleanup();
    }
  });
});
