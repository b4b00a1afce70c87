// Change-driven pushes must end exactly where a full rclone sync ends: random create / modify / delete /
// rename sequences (excluded folders, nested dirs, odd names included), a cycle after each batch, then
// `rclone check` between the workspace and the remote with the same filters.
import { execFile } from "node:child_process";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { testEnv } from "../support/cli.js";
import { productConf } from "../support/remote-view.js";
import { makeWorld, type World } from "../support/world.js";

const run = promisify(execFile);
const NAMES = ["a.txt", "b.md", "notes with space.txt", "ünïcode.txt", "x.log", ".env.local", "data.csv"];
const DIRS = ["", "docs", "docs/deep", "src", "node_modules/pkg", ".git", "project/__pycache__", "_inbox", "_outbox", "inbox"];

async function allFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string) {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => [])) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r.startsWith(".workspace-sync")) continue;
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  }
  await walk("");
  return out.sort();
}

async function mutate(root: string, rnd: () => number, ops: number): Promise<void> {
  for (let i = 0; i < ops; i++) {
    const files = await allFiles(root);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const op = rnd();
    if (op < 0.4 || files.length < 3) {
      const rel = path.join(pick(DIRS), `${Math.floor(rnd() * 1000)}-${pick(NAMES)}`);
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), `new ${rnd()}\n`.repeat(1 + Math.floor(rnd() * 20)));
    } else if (op < 0.65) {
      // Same-size rewrites too: only the mtime tells them apart.
      const rel = pick(files);
      const size = (await stat(path.join(root, rel))).size;
      const body = Buffer.alloc(size, String.fromCharCode(97 + Math.floor(rnd() * 26)));
      await writeFile(path.join(root, rel), rnd() < 0.5 ? body : `${body.toString()}grown ${rnd()}\n`);
    } else if (op < 0.85) {
      await rm(path.join(root, pick(files)));
    } else {
      const from = pick(files);
      const to = path.join(pick(DIRS), `renamed-${Math.floor(rnd() * 1000)}-${path.basename(from)}`);
      await mkdir(path.dirname(path.join(root, to)), { recursive: true });
      await rename(path.join(root, from), path.join(root, to));
    }
  }
}

describe.each(["local", "sftp"] as const)("change-driven push equals a full sync (%s)", (kind) => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend(kind).start();
  });
  afterAll(async () => server?.stop());

  for (const mode of ["mailbox", "mirror"] as const) {
    it(`${mode}: 12 random batches, remote checked after each cycle`, async () => {
      const folder = `eq-${mode}-${Date.now()}`;
      // maxDelete 100: random batches may delete most of a small tree; the guard has its own tests.
      const w: World = await makeWorld({ sync: { ...server.block, mode, remotePath: folder, maxDelete: 100, ingest: mode === "mirror" } });
      try {
        const rnd = prng(kind === "local" ? (mode === "mailbox" ? 1 : 2) : 3);
        await mutate(w.workspace, rnd, 25);
        for (let batch = 0; batch < 12; batch++) {
          const res = await w.cli("sync", "--json");
          expect(res.code, res.stderr).toBe(0);
          const report = JSON.parse(res.stdout) as { pushed: { strategy: string } };
          if (batch > 0) expect(report.pushed.strategy).not.toBe("full");
          const excludes = ["/.workspace-sync/**", "/.workspace-sync-trash/**", "**/.DS_Store", ".git/**", "node_modules/**", "**/__pycache__/**", ".env*"];
          excludes.push(...(mode === "mailbox" ? ["/_inbox/**", "/_outbox/**"] : ["/inbox/**"]));
          const args = ["check", w.workspace, `cloud:${server.pathPrefix}${folder}`, "--config", productConf(w.stateDir), ...excludes.flatMap((e) => ["--exclude", e])];
          const check = await run("rclone", args, { env: testEnv() }).then(
            () => ({ ok: true, out: "" }),
            (err: { stderr: string }) => ({ ok: false, out: err.stderr }),
          );
          expect(check.ok, `batch ${batch}: ${check.out}`).toBe(true);
          // Nothing changed since: the next cycle is idle, answered from the listing digest alone (fast path).
          const again = await w.cli("sync", "--json");
          expect(again.code, again.stderr).toBe(0);
          expect((JSON.parse(again.stdout) as { pushed: { strategy: string } }).pushed.strategy).toBe("idle");
          await mutate(w.workspace, rnd, 6 + Math.floor(rnd() * 6));
        }
      } finally {
        await w.cleanup();
      }
    });
  }
});
