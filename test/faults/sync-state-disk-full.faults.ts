// Fault case 4 (state side): the OpenClaw state dir — where the product keeps rclone.conf, its locks and its run
// state — sits on a disk that is full. The run must fail with exit 1 naming the file it could not write and what to
// do (not a bare "ENOSPC: write"), leave no 0-byte `<file>.<pid>.<hex>.tmp` and no empty lock behind, change nothing
// on the remote, and once space is freed the next run works and sweeps temp files a killed run left. Needs root for
// mount(8); without it the cases skip and say why.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { readTree } from "../helpers/servers.js";
import { makeWorld, type World } from "../support/world.js";
import { expectCleanError } from "./lib/sync-kit.js";

let skipReason = "";
const mounts: string[] = [];

async function mountTmpfs(size: string): Promise<string | undefined> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "wsync-state-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { stdio: "pipe" });
    mounts.push(dir);
    return dir;
  } catch (err) {
    skipReason = `disk-full cases need a small tmpfs, and \`mount -t tmpfs\` failed (${(err as Error).message.split("\n")[0]}): run the fault suite as root`;
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
}

/** Fills the file system holding `dir` to the last byte. */
async function fill(dir: string): Promise<string> {
  const filler = path.join(dir, "filler.bin");
  spawnSync("sh", ["-c", `cat /dev/zero > '${filler}'`]); // stops at ENOSPC
  return filler;
}

/** Every file below `dir` (relative), temp files and locks included. */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  await walk(dir, "");
  return out.sort();
}

/** A pid that certainly belonged to a process that has ended. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout.trim());
}

const worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
});
afterAll(async () => {
  for (const dir of mounts.splice(0)) {
    try {
      execFileSync("umount", ["-l", dir], { stdio: "pipe" });
    } catch {
      // already gone
    }
    await rm(dir, { recursive: true, force: true });
  }
});

describe("disk full on the state dir", () => {
  async function setup(ctx: { skip: () => void }): Promise<{ w: World; state: string; nas: string } | undefined> {
    const state = await mountTmpfs("1m");
    if (!state) {
      console.warn(`skipped: ${skipReason}`);
      ctx.skip();
      return undefined;
    }
    const w0 = await makeWorld();
    worlds.push(w0);
    const nas = path.join(w0.root, "nas");
    await mkdir(nas);
    // The config and the workspace stay on the normal disk; only the state dir is the small tmpfs.
    const w = await makeWorld(undefined, { OPENCLAW_STATE_DIR: state, OPENCLAW_CONFIG_PATH: w0.configFile, OPENCLAW_WORKSPACE_DIR: w0.workspace });
    worlds.push(w);
    await w0.writeConfig({ sync: { provider: "local", mode: "mailbox", remotePath: "share", local: { path: nas } } });
    await writeFile(path.join(w0.workspace, "notes.md"), "notes\n");
    return { w, state, nas };
  }

  it("first run: rclone.conf cannot be written → exit 1 naming it and what to do, no temp file left; after freeing space it works", async (ctx) => {
    const s = await setup(ctx);
    if (!s) return;
    const filler = await fill(s.state);
    const res = await s.w.cli("sync");
    expect(res.code, res.stderr).toBe(1);
    expectCleanError(res.stderr);
    const conf = path.join(s.state, "workspace-sync", "rclone.conf");
    expect(res.stderr).toContain(`could not write ${conf}: the disk is full (ENOSPC)`);
    expect(res.stderr).toMatch(/Free space on the file system that holds .*workspace-sync \(the OpenClaw state dir\), then run again/);
    expect((await allFiles(s.state)).filter((f) => f.endsWith(".tmp") || f.endsWith(".lock"))).toEqual([]);
    expect(await readTree(s.nas)).toEqual({});

    // A temp file a killed run left (its writer is gone) is swept by the next successful write.
    await rm(filler);
    const stale = path.join(s.state, "workspace-sync", `rclone.conf.${deadPid()}.0a1b2c3d.tmp`);
    await writeFile(stale, "");
    const again = await s.w.cli("sync");
    expect(again.code, again.stderr).toBe(0);
    expect(Object.keys(await readTree(path.join(s.nas, "share")))).toEqual(["notes.md"]);
    expect((await allFiles(s.state)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("later run: the lock and the run state cannot be written → exit 1 naming the file, no empty lock left; the next run takes over", async (ctx) => {
    const s = await setup(ctx);
    if (!s) return;
    expect((await s.w.cli("sync")).code).toBe(0);
    const filler = await fill(s.state);
    const res = await s.w.cli("sync");
    expect(res.code, res.stderr).toBe(1);
    expectCleanError(res.stderr);
    expect(res.stderr).toMatch(new RegExp(`could not write ${s.state.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/workspace-sync/\\S+: the disk is full \\(ENOSPC\\)`));
    expect((await allFiles(s.state)).filter((f) => f.endsWith(".tmp") || f.endsWith(".lock"))).toEqual([]);

    await rm(filler);
    const again = await s.w.cli("sync");
    expect(again.code, again.stderr).toBe(0);
    const status = JSON.parse((await s.w.cli("status", "--json")).stdout) as { sync: { lastRun: { ok: boolean } } };
    expect(status.sync.lastRun.ok).toBe(true);
  });
});
