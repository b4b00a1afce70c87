// `backup export --force` killed (-9) while it writes: the file it was replacing is untouched (the new export goes to
// a hidden temporary name and is renamed only when complete), and the next export removes the killed one's
// temporary file and completes.
import { randomBytes } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, stopAll, tempDir, type TestServer } from "../helpers/servers.js";
import { startCli } from "../support/cli.js";
import { makeWorld } from "../support/world.js";
import { ok, waitFor } from "./lib/backup-kit.js";

const PASS = "export kill passphrase 31f";

describe("backup export killed mid-write", () => {
  let local: TestServer;
  beforeAll(async () => {
    local = await startServer("local");
  });
  afterAll(async () => {
    await stopAll();
  });

  it("leaves the replaced file as it was; the next export cleans up and completes", async () => {
    const w = await makeWorld({ backup: { ...local.configBlock, prefix: `exp-${randomBytes(3).toString("hex")}`, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"] } });
    try {
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
      // Incompressible, so the export streams for a while.
      await writeFile(path.join(w.workspace, "big.bin"), randomBytes(48 << 20));
      ok(await w.cli("backup", "now", "-q"));
      const out = await tempDir("export-kill");
      const file = path.join(out, "cold.tar.zst.age");
      await writeFile(file, "the previous export\n");

      for (let round = 0; round < 3; round++) {
        const run = startCli(["backup", "export", "--to", file, "--force", "-q"], { env: w.env });
        // Killed once its temporary file has grown.
        await waitFor(async () => {
          for (const name of await readdir(out)) if (name.startsWith(".cold.tar.zst.age.partial-")) return true;
          return false;
        }, 60_000);
        await new Promise((r) => setTimeout(r, 100 + round * 150));
        run.child.kill("SIGKILL");
        await run.done;
        expect(await readFile(file, "utf8")).toBe("the previous export\n");
      }

      ok(await w.cli("backup", "export", "--to", file, "--force", "-q"));
      expect((await readdir(out)).sort()).toEqual(["cold.tar.zst.age"]);
      expect((await readFile(file)).subarray(0, 21).toString()).toBe("age-encryption.org/v1");
    } finally {
      await w.cleanup();
    }
  });
});
