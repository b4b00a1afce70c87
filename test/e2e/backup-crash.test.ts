// Acceptance 2: `kill -9` of the CLI at random points of a backup, over several trials. After each: `backup list`
// shows no snapshot that does not verify, `restore latest` gives the last committed one (the previous good one, or
// the new one if the kill came after its commit), and the next backup removes every leftover.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng, randomTree } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { startCli } from "../support/cli.js";
import { rclone } from "../support/remote-view.js";
import { makeWorld } from "../support/world.js";

const TRIALS = Number(process.env.BACKUP_KILL_TRIALS ?? 10);
const PASS = "kill test passphrase";

interface ListJson {
  snapshots: { name: string }[];
  leftovers: number;
}

describe("kill -9 during a backup (local backend)", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(`never leaves a snapshot that does not verify (${TRIALS} trials)`, { timeout: 300_000 }, async () => {
    const prefix = `crash-${randomBytes(3).toString("hex")}`;
    const w = await makeWorld({ backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain: 3 } });
    const repo = `cloud-backup:${server.pathPrefix}${prefix}`;
    const ok = (r: { code: number | null; stdout: string; stderr: string }) => {
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const list = async () => JSON.parse(ok(await w.cli("backup", "list", "--json"))) as ListJson;
    try {
      await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`);
      await randomTree(w.workspace, { files: 30, maxSize: 150_000, seed: 7 });
      await writeFile(path.join(w.workspace, "marker.txt"), "generation 0");
      const t0 = Date.now();
      ok(await w.cli("backup", "now"));
      const duration = Date.now() - t0;
      const rnd = prng(1234);
      let lastGood = "generation 0";
      let before = new Set((await list()).snapshots.map((s) => s.name));

      for (let trial = 1; trial <= TRIALS; trial++) {
        const generation = `generation ${trial}`;
        await writeFile(path.join(w.workspace, "marker.txt"), generation);
        const { child, done } = startCli(["backup", "now"], { env: w.env });
        const delay = Math.floor(rnd() * (duration + 200));
        await new Promise((r) => setTimeout(r, delay));
        child.kill("SIGKILL");
        const res = await done;

        // Whatever the moment of the kill: a listed snapshot verifies (the older ones were verified before), and
        // "latest" is the last committed one.
        const after = await list();
        const fresh = after.snapshots.filter((s) => !before.has(s.name));
        expect(fresh.length, `trial ${trial} (kill after ${delay} ms, exit ${res.code ?? res.signal})`).toBeLessThanOrEqual(1);
        if (fresh.length === 1) {
          ok(await w.cli("backup", "verify", "--snapshot", fresh[0]!.name));
          lastGood = generation; // the kill came after the commit
        }
        if (process.env.BACKUP_KILL_DEBUG) console.log(`trial ${trial}: kill at ${delay}/${duration} ms, committed: ${fresh.length === 1}`);
        const to = path.join(w.root, `restore-${trial}`);
        ok(await w.cli("backup", "restore", "--to", to));
        expect(await readFile(path.join(to, "workspace", "marker.txt"), "utf8"), `trial ${trial}, kill after ${delay} ms`).toBe(lastGood);

        // The next run removes what the killed one left, and commits.
        ok(await w.cli("backup", "now"));
        lastGood = generation;
        const clean = await list();
        expect(clean.leftovers, `trial ${trial}`).toBe(0);
        const objects = (await rclone(w.stateDir, "lsf", repo)).split("\n").filter(Boolean);
        expect(objects.length).toBe(clean.snapshots.length * 2); // data object + manifest, nothing else
        before = new Set(clean.snapshots.map((s) => s.name));
      }
      ok(await w.cli("backup", "verify", "--all"));
    } finally {
      await w.cleanup();
    }
  });
});
