// Inside a long-running process (the plugin service) a live change journal lets an idle cycle skip the
// local scan entirely; a change is pushed after re-stat'ing only what the watcher reported.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadContext } from "../../src/app/context.js";
import { buildSyncJob } from "../../src/app/sync-job.js";
import { ChangeJournal } from "../../src/sync/change-journal.js";
import { runSyncCycle } from "../../src/sync/engine.js";
import { silentLogger } from "../../src/util/logger.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { remoteTree } from "../support/remote-view.js";
import { writeTree } from "../support/tree.js";
import { makeWorld } from "../support/world.js";

describe("service cycles with a live journal", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => server?.stop());

  it("idle cycle: no scan, no transfer; one changed file: only it is re-stat'ed and pushed", async () => {
    const w = await makeWorld({ sync: { ...server.block, mode: "mailbox", remotePath: "journal" } });
    try {
      const files: Record<string, string> = {};
      for (let i = 0; i < 300; i++) files[`d${i % 10}/f${i}.txt`] = `file ${i}\n`;
      await writeTree(w.workspace, files);
      const ctx = await loadContext({}, w.env, silentLogger);
      const job = await buildSyncJob(ctx);
      const journal = new ChangeJournal(job.localRoot);
      journal.start();
      const first = await runSyncCycle(job, { journal, trigger: "interval" });
      expect(first.pushed!.strategy).toBe("full");
      await new Promise((r) => setTimeout(r, 300));
      const idle = await runSyncCycle(job, { journal, trigger: "interval" });
      expect(idle.pushed!.strategy).toBe("idle");
      expect(idle.pushed!.scanned).toBe(0);
      await writeFile(path.join(w.workspace, "d3", "f3.txt"), "changed\n");
      await new Promise((r) => setTimeout(r, 300));
      const one = await runSyncCycle(job, { journal, trigger: "interval" });
      expect(one.pushed!.strategy).toBe("incremental");
      expect(one.pushed!.copied).toEqual(["d3/f3.txt"]);
      expect(one.pushed!.scanned).toBeLessThan(5);
      expect((await remoteTree(w.stateDir, `cloud:${server.pathPrefix}journal/d3`))["f3.txt"]).toBe("changed\n");
      journal.stop();
    } finally {
      await w.cleanup();
    }
  });
});
