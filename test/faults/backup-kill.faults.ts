// Fault case 2 (backup half) and issue 3's crash acceptance: kill -9 of `backup now` at seeded points — before the
// upload, mid-rcat, between the data object and the manifest, during the manifest upload, during retention, at a
// seeded moment — hitting the CLI (its rclone children live on as orphans), only the rclone child, or the whole tree.
// After every kill: `backup list` shows only snapshots that verify, `restore latest` is byte-identical to the last
// committed generation, the next `backup now` succeeds and leaves the repository with exactly data object + manifest
// per snapshot and nothing pending. (Kills of verify and restore: backup-kill-read.faults.ts.)
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomTree, readTree, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import {
  expectNoOrphans,
  expectNoRcloneLeft,
  expectRestoreLatest,
  type KillPlan,
  killedRun,
  type KillWorld,
  killWorld,
  listOf,
  ok,
  seeded,
  SLOW,
  uploadStarted,
} from "./lib/backup-kit.js";

interface Trial {
  phase: KillPlan["phase"];
  victim: KillPlan["victim"];
}

/**
 * One killed backup and the checks after it. Returns the generation `restore latest` must now give.
 * `digests[g]` is the workspace of generation g.
 */
async function backupTrial(s: KillWorld, trial: Trial, n: number, rnd: () => number, digests: Map<number, Record<string, string>>, lastGood: number): Promise<string> {
  const { w, repo, repoDir } = s;
  const label = `trial ${n}: kill ${trial.victim} at ${trial.phase}`;
  await writeFile(path.join(w.workspace, "marker.txt"), `generation ${n}`);
  digests.set(n, await readTree(w.workspace));
  const delayMs = trial.phase === "random" ? Math.floor(rnd() * 2500) : Math.floor(rnd() * 150);
  const tick = (m: string) => process.env.FAULTS_DEBUG && console.log(`${label}: ${m} at ${Date.now() - t0} ms`);
  const t0 = Date.now();
  let good = lastGood;
  let before: Set<string>;
  let run: Awaited<ReturnType<typeof killedRun>>;
  // A short-lived rclone child (the stat, a deletefile) can end between two looks at /proc on a loaded machine: a run
  // that ended before its kill point committed normally, and the kill is tried again (at most 4 runs). An upload can
  // also end before its seeded delay: rclone's bandwidth limiter fills up (to 4 MiB) while rcat waits for the stream's
  // first bytes, so a small upload may pass at once. Each retry kills sooner after the first bytes, the last at once.
  let delay = delayMs;
  for (let attempt = 1; ; attempt++) {
    before = new Set((await listOf(w)).snapshots.map((x) => x.name));
    run = await killedRun(w, ["backup", "now"], { ...trial, delayMs: delay }, { env: SLOW, bytesOnRemote: uploadStarted(repoDir) });
    if (run.killed || trial.phase === "random" || attempt === 4) break;
    delay = attempt === 3 ? 0 : Math.floor(delay / 4);
    expect(run.res.code, `${label}: a run that was not killed succeeds\n${run.res.stderr}`).toBe(0);
    good = n;
    await expectNoRcloneLeft(w);
  }
  const { res, killed, what } = run;
  const detail = `${label} (${what}, +${delay} ms): exit ${res.code ?? res.signal}\n${res.stderr}`;
  if (trial.phase !== "random") expect(killed, `the kill point was reached: ${detail}`).toBe(true);

  // What the killed run itself reports.
  if (killed && trial.victim !== "rclone") expect(res.signal, detail).toBe("SIGKILL");
  if (killed && trial.victim === "rclone") {
    if (trial.phase.startsWith("retention")) {
      // The snapshot committed; a failed deletion is a warning, retention retries next time.
      expect(res.code, detail).toBe(0);
    } else {
      expect(res.code, detail).toBe(1);
      expect(res.stderr, detail).toMatch(/backup failed \(no snapshot was committed\): rclone \S+ was killed by SIGKILL/);
    }
  }

  // Orphans of a killed CLI finish on their own (EOF on stdin) or are stopped by the next run; wait for them so
  // the listing below is the one the user would see once things settled.
  tick("killed run over");
  await expectNoRcloneLeft(w);
  tick("no rclone left");
  const after = await listOf(w);
  const fresh = after.snapshots.filter((x) => !before.has(x.name));
  expect(fresh.length, detail).toBeLessThanOrEqual(1);
  expect(after.damaged, detail).toEqual([]);
  if (res.code === 1) expect(fresh, `a run that reported failure committed nothing: ${detail}`).toEqual([]);
  if (fresh.length === 1) {
    expect(ok(await w.cli("backup", "verify", "--snapshot", fresh[0]!.name), detail)).toMatch(/^ok /m);
    good = n;
  }
  tick("listed");
  await expectRestoreLatest(w, digests.get(good)!, detail);
  tick("restored");

  // The next run cleans up and commits; nothing but complete snapshots remains.
  ok(await w.cli("backup", "now"), `next backup after ${detail}`);
  tick("next backup");
  const clean = await listOf(w);
  await expectNoOrphans(w, repo, clean, detail);
  const status = JSON.parse(ok(await w.cli("backup", "status", "--json"))) as { state: { pending: string[]; lastRun: { ok: boolean } } };
  expect(status.state.pending, detail).toEqual([]);
  expect(status.state.lastRun.ok, detail).toBe(true);
  return `${label}: ${killed ? "killed" : "ended before the kill"}, exit ${res.code ?? res.signal}, ${fresh.length ? "committed" : "no snapshot"}`;
}

/**
 * A committed first generation (and `firstBackups` snapshots of it), then every trial in turn with its checks; at the
 * end every snapshot left verifies.
 */
async function runTrials(s: KillWorld, trials: readonly Trial[], seed: number, firstBackups = 1): Promise<void> {
  const digests = new Map<number, Record<string, string>>();
  digests.set(0, await readTree(s.w.workspace));
  for (let i = 0; i < firstBackups; i++) ok(await s.w.cli("backup", "now"));
  const rnd = seeded(seed);
  for (const [i, trial] of trials.entries()) {
    const t0 = Date.now();
    const line = await backupTrial(s, trial, i + 1, rnd, digests, i);
    if (process.env.FAULTS_DEBUG) console.log(`${line} [${Date.now() - t0} ms]`);
  }
  expect(ok(await s.w.cli("backup", "verify", "--all"))).not.toMatch(/FAILED/);
}

describe("kill -9 of backup now", () => {
  let local: TestServer;
  let sftp: TestServer;
  beforeAll(async () => {
    [local, sftp] = await Promise.all([startServer("local"), startServer("sftp")]);
  });
  afterAll(async () => {
    await stopAll();
  });

  // 14 seeded trials on the local backend through rclone (an alias remote): every phase, each victim.
  const LOCAL_TRIALS: Trial[] = [
    { phase: "listing", victim: "cli" },
    { phase: "mid-rcat", victim: "cli" },
    { phase: "mid-rcat", victim: "tree" },
    { phase: "mid-rcat", victim: "rclone" },
    { phase: "stat", victim: "cli" },
    { phase: "stat", victim: "rclone" },
    { phase: "rcat-manifest", victim: "cli" },
    { phase: "rcat-manifest", victim: "tree" },
    { phase: "rcat-manifest", victim: "rclone" },
    { phase: "retention-manifest", victim: "cli" },
    { phase: "retention-data", victim: "tree" },
    { phase: "retention-manifest", victim: "rclone" },
    { phase: "random", victim: "cli" },
    { phase: "random", victim: "tree" },
  ];

  it(`backup now killed at ${LOCAL_TRIALS.length} seeded points (local backend through rclone)`, { timeout: 420_000 }, async () => {
    const s = await killWorld(local, 2, { viaRclone: true });
    try {
      await runTrials(s, LOCAL_TRIALS, 2026);
    } finally {
      await s.w.cleanup();
    }
  });

  // A local folder is written without rclone: kills while its data object grows, and at seeded moments.
  const DIRECT_TRIALS: Trial[] = [
    { phase: "mid-write", victim: "cli" },
    { phase: "mid-write", victim: "tree" },
    { phase: "mid-write", victim: "cli" },
    { phase: "random", victim: "cli" },
    { phase: "random", victim: "tree" },
  ];

  it(`backup now killed at ${DIRECT_TRIALS.length} seeded points (local folder, written directly)`, { timeout: 300_000 }, async () => {
    const s = await killWorld(local);
    try {
      // ~50 MB more of incompressible data: the direct write lasts long enough to be cut.
      await randomTree(path.join(s.w.workspace, "media"), { files: 2, minSize: 25_000_000, maxSize: 25_000_000, seed: 11 });
      await runTrials(s, DIRECT_TRIALS, 404);
    } finally {
      await s.w.cleanup();
    }
  });

  const SFTP_TRIALS: Trial[] = [
    { phase: "mid-rcat", victim: "cli" },
    { phase: "mid-rcat", victim: "rclone" },
    { phase: "stat", victim: "tree" },
    { phase: "retention-data", victim: "tree" },
  ];

  it(`backup now killed at ${SFTP_TRIALS.length} seeded points (sftp)`, { timeout: 240_000 }, async () => {
    const s = await killWorld(sftp);
    try {
      await runTrials(s, SFTP_TRIALS, 7, 2); // two snapshots: retention has work from the first trial on
    } finally {
      await s.w.cleanup();
    }
  });
});
