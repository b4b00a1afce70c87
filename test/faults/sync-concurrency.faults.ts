// Fault case 5: the plugin service's interval tick, a session_start hook and two standalone `workspace-sync sync`
// processes all start at the same moment against one workspace. One run may work at a time (the others wait or
// exit 3), no run may be lost or half-applied, and at the end every outbox file is in _inbox exactly once and the
// remote equals the workspace.
//
// Two independent witnesses of "one at a time": the run records the product persists (polled while everything
// runs), and a wrapper around rclone (the configured rclonePath) that logs when each rclone ran and for which
// process: rclone processes of two different owners must never overlap in time.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { startCli } from "../support/cli.js";
import { makeWorld } from "../support/world.js";
import { localFiles, remoteFiles, seedRemote, sleep, waitFor } from "./lib/sync-kit.js";
// The real plugin surface, as the gateway loads it (built code).
import { queueSessionCycle } from "../../dist/plugin/hooks.js";
import { WorkspaceSyncService } from "../../dist/plugin/service.js";

interface RunRecord {
  trigger: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  error?: string;
}

interface RcloneSpan {
  start: number;
  end: number;
  owner: number;
  sub: string;
}

function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}

describe("concurrent runs: service tick + session hook + two CLI invocations", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("sftp");
  });
  afterAll(async () => {
    await stopAll();
  });

  it.each(["the CLI runs", "the service tick"])("one runs at a time, the others wait or exit 3, nothing is lost (%s started first)", async (first) => {
    const folder = `race-${first.length}`;
    const w = await makeWorld(undefined, { RCLONE_BWLIMIT: "6M" });
    const spans = path.join(w.root, "rclone-spans.log");
    const wrapper = path.join(w.root, "bin", "rclone");
    await mkdir(path.dirname(wrapper), { recursive: true });
    // Logs start, end and the owner (the node process that spawned it) of every rclone run.
    await writeFile(
      wrapper,
      `#!/bin/bash\ns=$(date +%s%N)\n/usr/bin/rclone "$@"\nrc=$?\necho "$s $(date +%s%N) $PPID $1" >> ${spans}\nexit $rc\n`,
      { mode: 0o755 },
    );
    const pluginConfig = {
      rclonePath: wrapper,
      sync: { ...server.configBlock, mode: "mailbox", remotePath: folder, interval: 60, onSessionStart: true, fullSyncInterval: 0 },
    };
    await w.writeConfig(pluginConfig);
    const ws: Record<string, Buffer> = {};
    for (let i = 0; i < 30; i++) ws[`docs/f${i}.txt`] = Buffer.from(`file ${i}\n`.repeat(100 + i));
    ws["media/big.bin"] = Buffer.alloc(3 << 20, 7);
    for (const [rel, b] of Object.entries(ws)) {
      await mkdir(path.dirname(path.join(w.workspace, rel)), { recursive: true });
      await writeFile(path.join(w.workspace, rel), b);
    }
    const outbox: Record<string, Buffer> = {};
    for (let i = 0; i < 8; i++) outbox[`wave1/o${i}.txt`] = Buffer.from(`outbox ${i}\n`.repeat(200));
    outbox["wave1/big.bin"] = Buffer.alloc(2 << 20, 9);
    await seedRemote(server, `${folder}/_outbox`, outbox);

    // Poll the persisted run records while everything runs.
    const records = new Map<string, RunRecord>();
    let polling = true;
    const stateFile = path.join(w.stateDir, "workspace-sync", "sync-state.json");
    const readRecord = async () => {
      try {
        const s = JSON.parse(await readFile(stateFile, "utf8")) as { lastRun?: RunRecord };
        if (s.lastRun) records.set(`${s.lastRun.startedAt}|${s.lastRun.trigger}`, s.lastRun);
      } catch {
        // not written yet
      }
    };
    const poller = (async () => {
      while (polling) {
        await readRecord();
        await sleep(15);
      }
      await readRecord(); // the last run's record, written just before everything went idle
    })();

    const logs: { level: string; msg: string }[] = [];
    const log = (level: string) => (msg: string) => void logs.push({ level, msg });
    const logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
    const svc = new WorkspaceSyncService({
      runtime: () => ({
        agent: { resolveAgentWorkspaceDir: () => w.workspace },
        state: { resolveStateDir: () => w.stateDir },
        system: { enqueueSystemEvent: () => true, requestHeartbeat: () => {} },
      }),
      pluginConfig: () => pluginConfig,
      hostConfig: () => ({}),
      env: w.env,
      startDelayMs: { sync: 0, backup: 3_600_000 },
    });
    try {
      // All at once: the service's first tick (start delay 0), a session starting, two CLI runs.
      const clis: ReturnType<typeof startCli>[] = [];
      const startClis = () => clis.push(startCli(["sync"], { env: w.env }), startCli(["sync"], { env: w.env }));
      if (first === "the CLI runs") startClis();
      await svc.start({ config: {}, stateDir: w.stateDir, workspaceDir: w.workspace, logger });
      expect(svc.problems).toEqual([]);
      // The interval tick is in flight (waiting for the lock or running); a session starts meanwhile.
      expect(await waitFor(() => svc.sync!.snapshot().running, 5_000)).toBe(true);
      if (first !== "the CLI runs") {
        // The tick holds the lock before the CLI runs start.
        expect(await waitFor(() => readFile(path.join(w.stateDir, "workspace-sync", "locks"), "utf8").catch((e: NodeJS.ErrnoException) => e.code === "EISDIR"), 5_000)).toBe(true);
        await sleep(100);
        startClis();
      }
      const [cliA, cliB] = clis as [ReturnType<typeof startCli>, ReturnType<typeof startCli>];
      const hook = queueSessionCycle("session_start", { sessionId: "s1" }, { sessionId: "s1", agentId: "main", sessionKey: "agent:main:main" }, logger, svc);
      expect(hook).toBe("queued");
      // More mail arrives while they fight over the lock.
      const wave2: Record<string, Buffer> = {};
      for (let i = 0; i < 5; i++) wave2[`wave2/p${i}.txt`] = Buffer.from(`second wave ${i}\n`.repeat(300));
      await seedRemote(server, `${folder}/_outbox`, wave2);
      Object.assign(outbox, wave2);

      const [a, b] = await Promise.all([cliA.done, cliB.done]);
      expect(await svc.sync!.whenIdle(120_000)).toBe(true);
      for (const r of [a, b]) {
        expect([0, 3], r.stderr).toContain(r.code);
        if (r.code === 3) expect(r.stderr).toMatch(/another run is in progress/);
        else expect(r.stderr).not.toMatch(/error/i);
      }
      // The service reported every run of its own: a success, or a busy skip (never an error).
      expect(logs.filter((l) => l.level === "error"), JSON.stringify(logs)).toEqual([]);
      // The tick and the hook's follow-up: two service runs, never side by side.
      expect(svc.sync!.snapshot().runs).toBe(2);

      // A last cycle settles whatever a busy run left for later.
      polling = false;
      await poller;
      const last = await w.cli("sync");
      expect(last.code, last.stderr).toBe(0);

      // Witness 1: the persisted run records never overlap.
      const runs = [...records.values()].map((r) => ({ ...r, start: Date.parse(r.startedAt), end: Date.parse(r.finishedAt) }));
      expect(runs.length).toBeGreaterThanOrEqual(2);
      for (const r of runs) expect(r.ok, r.error).toBe(true);
      for (let i = 0; i < runs.length; i++) for (let j = i + 1; j < runs.length; j++) expect(overlaps(runs[i]!, runs[j]!), `${runs[i]!.trigger} and ${runs[j]!.trigger} overlap`).toBe(false);

      // Witness 2: rclone processes of different owners never overlap.
      const rcloneRuns: RcloneSpan[] = (await readFile(spans, "utf8"))
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([s, e, owner, sub]) => ({ start: Number(s) / 1e6, end: Number(e) / 1e6, owner: Number(owner), sub: sub! }))
        .filter((r) => r.sub !== "version");
      const owners = new Set(rcloneRuns.map((r) => r.owner));
      expect(owners.size, "at least two processes ran rclone (the last CLI run included)").toBeGreaterThanOrEqual(2);
      for (const x of rcloneRuns)
        for (const y of rcloneRuns) if (x.owner !== y.owner) expect(overlaps(x, y), `rclone ${x.sub} (pid ${x.owner}) overlaps rclone ${y.sub} (pid ${y.owner})`).toBe(false);

      // Nothing lost: every outbox file arrived exactly once and whole; the remote equals the workspace.
      const digest = (t: Record<string, Buffer>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, sha256(v)]));
      expect(await localFiles(path.join(w.workspace, "_inbox"))).toEqual(digest(outbox));
      const remote = await remoteFiles(server, folder);
      expect(Object.keys(remote).filter((p) => p.startsWith("_outbox/"))).toEqual([]);
      expect(Object.fromEntries(Object.entries(remote).filter(([p]) => !p.startsWith(".workspace-sync-trash/")))).toEqual(digest(ws));
    } finally {
      polling = false;
      await poller;
      await svc.stop();
      await w.cleanup();
    }
  });
});
