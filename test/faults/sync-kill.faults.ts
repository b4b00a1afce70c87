// Fault case 1: kill -9 of a sync at varied points, in every mode. The kill lands on rclone (mid-transfer) or on
// the CLI itself (its rclone children live on as orphans, the lock stays behind). After the kill, the next run
// must complete with exit 0 and nothing may be lost: every file that existed on either side before is still
// where it belongs (workspace, remote, remote trash, _inbox) with its whole content; bisync must not demand a
// --resync. Kill points and data are fixed per trial (seeded), so every trial is reproducible.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { runCli, startCli, type CliResult } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";
import { alive, deleteRemote, localFiles, rcloneOf, remoteFiles, seedRemote, seeded, sleep, waitFor } from "./lib/sync-kit.js";

const MB = 1024 * 1024;
// rclone reads flag defaults from RCLONE_*: a bandwidth limit makes every transfer last long enough to be cut.
const SLOW = { RCLONE_BWLIMIT: "8M" };

interface KillPoint {
  /** Which process gets SIGKILL. */
  victim: "rclone" | "cli";
  /** rclone sub-command whose start arms the kill. */
  on: string;
  /** ...with an argument containing this text ("incoming": the drain's copy; "push-changed": the push's copy). */
  arg?: string;
  /** Delay after that rclone started... */
  delayMs: number;
  /** ...or, instead, the moment this many files have landed in the drain's staging folder. */
  afterStaged?: number;
}

interface Trial {
  name: string;
  point: KillPoint;
  killed: boolean;
  firstExit: number | null;
}

function blob(size: number, seed: number): Buffer {
  const rnd = seeded(seed);
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4096) b.writeUInt32LE(Math.floor(rnd() * 2 ** 32), i);
  return b;
}

function files(prefix: string, n: number, seed: number, big: number[] = []): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) out[`${prefix}${i % 3 ? `sub${i % 3}/` : ""}f${i}.txt`] = Buffer.from(`${prefix} ${i} ${seed}\n`.repeat(1 + ((i * 37) % 400)));
  big.forEach((size, i) => (out[`${prefix}big${i}.bin`] = blob(size, seed * 31 + i)));
  return out;
}

async function writeAll(root: string, tree: Record<string, Buffer | string>): Promise<void> {
  for (const [rel, body] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), body);
  }
}

const digest = (tree: Record<string, Buffer | string>) => Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, sha256(v)]));

/**
 * Starts `sync` and SIGKILLs the chosen process at the kill point. Returns the killed run's result and whether
 * the kill landed (the run may also have ended before the point was reached).
 */
async function killedRun(w: World, point: KillPoint, args: string[] = ["sync"]): Promise<{ res: CliResult; killed: boolean }> {
  const run = startCli(args, { env: w.env });
  let ended = false;
  void run.done.then(() => (ended = true));
  const target = await waitFor(() => (ended ? "ended" : rcloneOf(w.root, point.on).find((p) => !point.arg || p.argv.some((a) => a.includes(point.arg!)))), 30_000, 5);
  let killed = false;
  if (target && target !== "ended") {
    if (point.afterStaged) {
      const staging = path.join(w.workspace, ".workspace-sync", "incoming");
      const staged = async () => (await readdir(staging, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).length;
      await waitFor(async () => ended || (await staged()) >= point.afterStaged!, 30_000, 5);
    } else await sleep(point.delayMs);
    const pid = point.victim === "cli" ? run.child.pid! : target.pid;
    if (!ended && alive(pid)) {
      process.kill(pid, "SIGKILL");
      killed = true;
    }
  }
  const res = await run.done;
  return { res, killed };
}

/** The next run, at full speed (the bandwidth limit only served to make the kill land mid-transfer). */
async function followUp(w: World): Promise<CliResult> {
  const env = { ...w.env };
  delete env.RCLONE_BWLIMIT;
  const res = await runCli(["sync"], { env });
  expect(res.code, `follow-up run after the kill:\n${res.stderr}`).toBe(0);
  expect(res.stderr).not.toMatch(/--resync/);
  return res;
}

/** No rclone of this world is left running (orphans of a killed CLI are stopped by the next run). */
async function expectNoRcloneLeft(w: World): Promise<void> {
  const left = await waitFor(() => rcloneOf(w.root).length === 0, 5_000);
  expect(left, `rclone processes left: ${JSON.stringify(rcloneOf(w.root))}`).toBe(true);
}

const trials: Trial[] = [];

describe.each(["sftp", "local"] as const)("kill -9 during a sync (%s remote)", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const base = (w: World, folder: string, mode: string, extra: Record<string, unknown> = {}) =>
    w.writeConfig({ sync: { ...server.configBlock, mode, remotePath: folder, ...extra } });

  // Mailbox: the push (copy/move to trash) and the drain (move into staging) are both cut.
  // "incoming" is the drain's copy into staging, "push-changed" the push's copy, "drain-delete" the removal of
  // delivered files from the outbox.
  const mailboxPoints: KillPoint[] =
    kind === "sftp"
      ? [
          { victim: "rclone", on: "copy", arg: "incoming", delayMs: 250 },
          { victim: "cli", on: "copy", arg: "incoming", delayMs: 500 },
          { victim: "cli", on: "copy", arg: "push-changed", delayMs: 150 },
          { victim: "cli", on: "delete", arg: "drain-delete", delayMs: 0 },
          { victim: "rclone", on: "copy", arg: "incoming", delayMs: 0, afterStaged: 4 },
        ]
      : [{ victim: "rclone", on: "copy", arg: "push-changed", delayMs: 200 }];
  it.each(mailboxPoints.map((p, i) => ({ ...p, i, when: p.afterStaged ? `once ${p.afterStaged} files landed in` : `${p.delayMs} ms into` })))("mailbox: kill $victim $when rclone $on ($arg)", async (point) => {
    const folder = `mbx-kill-${point.i}`;
    const rnd = seeded(1000 + point.i);
    const w = await makeWorld(undefined, SLOW);
    try {
      await base(w, folder, "mailbox");
      const ws0 = files("w/", 12, 1 + point.i, [3 * MB]);
      const out0 = files("o0/", 6, 50 + point.i);
      await writeAll(w.workspace, ws0);
      await seedRemote(server, `${folder}/_outbox`, out0);
      expect((await w.cli("sync")).code).toBe(0);

      // Changes for the killed run: new, modified and deleted workspace files; new outbox files incl. big ones.
      const ws1 = { ...ws0, ...files("w/new-", 8, 7 + point.i, [2 * MB + Math.floor(rnd() * MB)]) };
      const modified = Object.keys(ws0).filter((_, i) => i % 4 === 1);
      for (const rel of modified) ws1[rel] = Buffer.from(`modified ${rel} ${point.i}\n`.repeat(200));
      const deleted = Object.keys(ws0).filter((_, i) => i % 5 === 2 && !modified.includes(Object.keys(ws0)[i]!));
      for (const rel of deleted) {
        delete ws1[rel];
        await rm(path.join(w.workspace, rel));
      }
      await writeAll(w.workspace, Object.fromEntries(Object.entries(ws1).filter(([k]) => !(k in ws0) || modified.includes(k))));
      const out1 = files("o1/", 10, 90 + point.i, [3 * MB, 2 * MB]);
      await seedRemote(server, `${folder}/_outbox`, out1);

      const { res, killed } = await killedRun(w, point);
      trials.push({ name: `${kind} mailbox ${point.victim}@${point.on}+${point.delayMs}`, point, killed, firstExit: res.code });
      expect(killed, "the kill landed while the run was going").toBe(true);
      if (point.victim === "rclone") expect(res.code).toBe(1);
      else {
        expect(res.signal).toBe("SIGKILL");
        // The killed CLI left its lock behind; the next run takes it over (the owner is gone) and releases it.
        expect(await readdir(path.join(w.stateDir, "workspace-sync", "locks"))).toContainEqual(expect.stringMatching(/^sync-.*\.lock$/));
      }

      await followUp(w);
      expect((await readdir(path.join(w.stateDir, "workspace-sync", "locks"))).filter((n) => n.endsWith(".lock"))).toEqual([]);
      await expectNoRcloneLeft(w);

      // Every outbox file is in _inbox exactly once, whole; nothing is left in _outbox or in staging.
      const inbox = await localFiles(path.join(w.workspace, "_inbox"));
      expect(inbox).toEqual({ ...digest(out0), ...digest(out1) });
      const remote = await remoteFiles(server, folder);
      expect(Object.keys(remote).filter((p) => p.startsWith("_outbox/"))).toEqual([]);
      expect(await localFiles(path.join(w.workspace, ".workspace-sync", "incoming"))).toEqual({});
      // The workspace is what the agent left; the remote equals it; replaced and deleted versions are in the trash.
      expect(await localFiles(w.workspace, ["_inbox", ".workspace-sync"])).toEqual(digest(ws1));
      const pushed = Object.fromEntries(Object.entries(remote).filter(([p]) => !p.startsWith(".workspace-sync-trash/")));
      expect(pushed).toEqual(digest(ws1));
      const trashed = new Set(Object.entries(remote).filter(([p]) => p.startsWith(".workspace-sync-trash/")).map(([, sha]) => sha));
      for (const rel of [...modified, ...deleted]) expect(trashed.has(sha256(ws0[rel]!)), `old version of ${rel} in the trash`).toBe(true);
    } finally {
      await w.cleanup();
    }
  });
});

describe.each(["sftp", "local"] as const)("kill -9 during mirror and bisync (%s remote)", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const mirrorPoints: KillPoint[] =
    kind === "sftp"
      ? [
          { victim: "rclone", on: "copy", arg: "ingest-files", delayMs: 300 },
          { victim: "cli", on: "copy", arg: "ingest-files", delayMs: 200 },
        ]
      : [{ victim: "cli", on: "copy", arg: "push-changed", delayMs: 300 }];
  it.each(mirrorPoints.map((p, i) => ({ ...p, i })))("mirror + ingest: kill $victim $delayMs ms into rclone $on ($arg)", async (point) => {
    const folder = `mir-kill-${point.i}`;
    const w = await makeWorld(undefined, SLOW);
    try {
      await w.writeConfig({ sync: { ...server.configBlock, mode: "mirror", remotePath: folder, ingest: true, ingestPath: "drops" } });
      const ws0 = files("w/", 10, 300 + point.i, [2 * MB]);
      const drops0 = files("d0/", 4, 330 + point.i);
      await writeAll(w.workspace, ws0);
      await seedRemote(server, `${folder}/drops`, drops0);
      expect((await w.cli("sync")).code).toBe(0);

      const ws1 = { ...ws0, ...files("w/new-", 6, 360 + point.i, [2 * MB]) };
      const modified = Object.keys(ws0).filter((_, i) => i % 3 === 1);
      for (const rel of modified) ws1[rel] = Buffer.from(`mirror modified ${rel}\n`.repeat(300));
      await writeAll(w.workspace, Object.fromEntries(Object.entries(ws1).filter(([k]) => !(k in ws0) || modified.includes(k))));
      const drops1 = files("d1/", 6, 390 + point.i, [2 * MB, MB]);
      await seedRemote(server, `${folder}/drops`, drops1);

      const { res, killed } = await killedRun(w, point);
      trials.push({ name: `${kind} mirror ${point.victim}@${point.arg}+${point.delayMs}`, point, killed, firstExit: res.code });
      expect(killed, "the kill landed while the run was going").toBe(true);
      await followUp(w);
      await expectNoRcloneLeft(w);

      // Every drop arrived exactly once and whole; the remote keeps every drop; the workspace is otherwise untouched.
      expect(await localFiles(path.join(w.workspace, "drops"))).toEqual({ ...digest(drops0), ...digest(drops1) });
      const remote = await remoteFiles(server, folder);
      const remoteDrops = Object.fromEntries(Object.entries(remote).filter(([p]) => p.startsWith("drops/")).map(([p, h]) => [p.slice(6), h]));
      expect(remoteDrops).toEqual({ ...digest(drops0), ...digest(drops1) });
      expect(await localFiles(w.workspace, ["drops", ".workspace-sync"])).toEqual(digest(ws1));
      const pushed = Object.fromEntries(Object.entries(remote).filter(([p]) => !p.startsWith(".workspace-sync-trash/") && !p.startsWith("drops/")));
      expect(pushed).toEqual(digest(ws1));
      const trashed = new Set(Object.entries(remote).filter(([p]) => p.startsWith(".workspace-sync-trash/")).map(([, sha]) => sha));
      for (const rel of modified) expect(trashed.has(sha256(ws0[rel]!)), `old version of ${rel} in the trash`).toBe(true);
      // A further cycle brings nothing twice.
      await followUp(w);
      expect(await localFiles(path.join(w.workspace, "drops"))).toEqual({ ...digest(drops0), ...digest(drops1) });
    } finally {
      await w.cleanup();
    }
  });

  const bisyncPoints: KillPoint[] =
    kind === "sftp"
      ? [
          { victim: "rclone", on: "bisync", delayMs: 500 },
          { victim: "cli", on: "bisync", delayMs: 800 },
          { victim: "rclone", on: "bisync", delayMs: 1100 },
        ]
      : [
          { victim: "rclone", on: "bisync", delayMs: 400 },
          { victim: "cli", on: "bisync", delayMs: 900 },
        ];
  it.each(bisyncPoints.map((p, i) => ({ ...p, i })))("bisync: kill $victim $delayMs ms into rclone bisync, no --resync needed", async (point) => {
    const folder = `bi-kill-${point.i}`;
    const w = await makeWorld(undefined, { RCLONE_BWLIMIT: "3M" });
    try {
      await w.writeConfig({ sync: { ...server.configBlock, mode: "bisync", remotePath: folder } });
      const local0 = files("l/", 8, 500 + point.i);
      const remote0 = files("r/", 8, 530 + point.i);
      await writeAll(w.workspace, local0);
      await seedRemote(server, folder, remote0);
      const base = await w.cli("sync", "--resync", "--yes");
      expect(base.code, base.stderr).toBe(0);
      await sleep(1100); // later edits get a visibly newer mtime on second-precision backends

      // Both sides change: new files (big ones included), edits, deletions.
      const localNew = files("l/new-", 5, 560 + point.i, [2 * MB]);
      const remoteNew = files("r/new-", 5, 590 + point.i, [1.5 * MB]);
      const localEdit = { [Object.keys(local0)[1]!]: Buffer.from("edited in the workspace\n".repeat(100)) };
      const remoteEdit = { [Object.keys(remote0)[2]!]: Buffer.from("edited on the remote\n".repeat(120)) };
      const localDel = Object.keys(local0)[4]!;
      const remoteDel = Object.keys(remote0)[5]!;
      await writeAll(w.workspace, { ...localNew, ...localEdit });
      await rm(path.join(w.workspace, localDel));
      await seedRemote(server, folder, { ...remoteNew, ...remoteEdit });
      await deleteRemote(server, folder, remoteDel);
      const expected = digest({ ...local0, ...remote0, ...localNew, ...remoteNew, ...localEdit, ...remoteEdit });
      delete expected[localDel];
      delete expected[remoteDel];

      const { res, killed } = await killedRun(w, point);
      trials.push({ name: `${kind} bisync ${point.victim}+${point.delayMs}`, point, killed, firstExit: res.code });
      expect(killed, "the kill landed while the run was going").toBe(true);
      if (point.victim === "rclone") expect(res.code).toBe(1);
      else expect(res.signal).toBe("SIGKILL");
      await followUp(w);
      await expectNoRcloneLeft(w);

      // Both sides hold the merged tree, whole, with no conflict copies and nothing lost.
      expect(await localFiles(w.workspace, [".workspace-sync"])).toEqual(expected);
      const remote = Object.fromEntries(Object.entries(await remoteFiles(server, folder)).filter(([p]) => !p.startsWith(".workspace-sync-trash/")));
      expect(remote).toEqual(expected);
      const again = await followUp(w);
      expect(again.stderr).not.toMatch(/healed/);
    } finally {
      await w.cleanup();
    }
  });
});

afterAll(async () => {
  await stopAll();
  // The trial log (victim, kill point, whether the kill landed, exit of the killed run) for docs/reliability.md.
  if (process.env.FAULTS_LOG) await writeFile(process.env.FAULTS_LOG, JSON.stringify(trials, null, 2), { flag: "a" });
});
