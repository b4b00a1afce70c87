// The service against the real sync engine (rclone, local-folder remote) with a fake host runtime: schedules,
// session hooks, slash commands, notifyOnInbox and config errors.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backupNowText, syncNowText, syncStatusText } from "./commands.js";
import type { HostLogger, HostRuntime, ServiceContext } from "./host-api.js";
import { queueSessionCycle } from "./hooks.js";
import type { JobRunners } from "./jobs.js";
import { activeService, WorkspaceSyncService } from "./service.js";
import { heartbeatAlive, readHeartbeat } from "../schedule/heartbeat.js";
import { BusyFailure, OperationError } from "../util/errors.js";

interface World {
  root: string;
  stateDir: string;
  workspace: string;
  remote: string;
  logs: { level: string; msg: string }[];
  logger: HostLogger;
  events: { text: string; sessionKey: string; agentId?: string }[];
  heartbeats: unknown[];
  runtime: Pick<HostRuntime, "agent" | "state" | "system">;
}

async function world(): Promise<World> {
  const root = await mkdtemp(path.join(os.tmpdir(), "ws-plugin-"));
  const w: World = {
    root,
    stateDir: path.join(root, "state"),
    workspace: path.join(root, "state", "workspace"),
    remote: path.join(root, "remote"),
    logs: [],
    logger: undefined as never,
    events: [],
    heartbeats: [],
    runtime: undefined as never,
  };
  await mkdir(w.workspace, { recursive: true });
  await mkdir(w.remote, { recursive: true });
  const log = (level: string) => (msg: string) => w.logs.push({ level, msg });
  w.logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
  w.runtime = {
    agent: { resolveAgentWorkspaceDir: (_cfg, agentId) => (agentId === "main" ? w.workspace : path.join(root, `ws-${agentId}`)) },
    state: { resolveStateDir: () => w.stateDir },
    system: {
      enqueueSystemEvent: (text, o) => {
        w.events.push({ text, sessionKey: o.sessionKey, agentId: o.agentId });
        return true;
      },
      requestHeartbeat: (o) => void w.heartbeats.push(o),
    },
  };
  return w;
}

function service(w: World, pluginConfig: unknown, runners?: JobRunners) {
  return new WorkspaceSyncService({
    runtime: () => w.runtime,
    pluginConfig: () => pluginConfig,
    hostConfig: () => ({ agents: { entries: { main: { workspace: w.workspace } } } }),
    env: { PATH: process.env.PATH, HOME: w.root },
    runners,
    startDelayMs: { sync: 60_000, backup: 60_000 },
  });
}

function sctx(w: World): ServiceContext {
  return { config: {}, stateDir: w.stateDir, workspaceDir: w.workspace, logger: w.logger };
}

const mailbox = (w: World, extra: Record<string, unknown> = {}) => ({
  sync: { provider: "local", local: { path: w.remote }, remotePath: "share", mode: "mailbox", ...extra },
});

describe("WorkspaceSyncService", () => {
  let w: World;
  let svc: WorkspaceSyncService | undefined;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
    await rm(w.root, { recursive: true, force: true });
  });

  it("notifyOnInbox: exactly one system event (and one heartbeat request) after a drain with files, none after an empty drain", async () => {
    svc = service(w, mailbox(w, { notifyOnInbox: true }));
    await svc.start(sctx(w));
    expect(svc.problems).toEqual([]);
    // first cycle: nothing in the outbox
    expect(await syncNowText(svc, { commandBody: "/sync-now", isAuthorizedSender: true })).toMatch(/sync done/);
    expect(w.events).toHaveLength(0);
    expect(w.heartbeats).toHaveLength(0);
    // a user drops two files into the cloud _outbox
    const outbox = path.join(w.remote, "share", "_outbox");
    await writeFile(path.join(outbox, "report.pdf"), "pdf");
    await mkdir(path.join(outbox, "sub"), { recursive: true });
    await writeFile(path.join(outbox, "sub", "data.csv"), "a,b");
    const reply = await syncNowText(svc, { commandBody: "/sync-now", isAuthorizedSender: true, sessionKey: "agent:main:telegram:42", agentId: "main" });
    expect(reply).toMatch(/received 2 file\(s\)/);
    expect(w.events).toHaveLength(1);
    expect(w.events[0]?.text).toMatch(/^\[workspace-sync\] New files in _inbox: /);
    expect(w.events[0]?.text).toContain("report.pdf");
    expect(w.events[0]?.text).toContain("data.csv");
    expect(w.events[0]).toMatchObject({ sessionKey: "agent:main:telegram:42", agentId: "main" });
    expect(w.heartbeats).toEqual([expect.objectContaining({ intent: "event", sessionKey: "agent:main:telegram:42" })]);
    expect((await readdir(path.join(w.workspace, "_inbox"))).sort()).toEqual(["report.pdf", "sub"]);
    // an empty drain afterwards stays silent
    await syncNowText(svc, { commandBody: "/sync-now", isAuthorizedSender: true });
    expect(w.events).toHaveLength(1);
    expect(w.heartbeats).toHaveLength(1);
  });

  it("notifyOnInbox off: files arrive, no event", async () => {
    svc = service(w, mailbox(w));
    await svc.start(sctx(w));
    await syncNowText(svc, { commandBody: "/sync-now", isAuthorizedSender: true });
    await writeFile(path.join(w.remote, "share", "_outbox", "x.txt"), "x");
    expect(await syncNowText(svc, { commandBody: "/sync-now", isAuthorizedSender: true })).toMatch(/received 1 file/);
    expect(w.events).toHaveLength(0);
  });

  it("an interval run without a session notifies the agent's main session", async () => {
    svc = service(w, mailbox(w, { notifyOnInbox: true }));
    await svc.start(sctx(w));
    await mkdir(path.join(w.remote, "share", "_outbox"), { recursive: true });
    await writeFile(path.join(w.remote, "share", "_outbox", "a.txt"), "a");
    svc.sync?.request({ kind: "interval" });
    await svc.sync?.whenIdle(30_000);
    expect(w.events).toEqual([expect.objectContaining({ sessionKey: "agent:main:main", agentId: "main" })]);
  });

  it("a config error (missing mode) is logged once with the key, and the service stays loaded and idle", async () => {
    svc = service(w, { sync: { provider: "local", local: { path: w.remote }, interval: 60 } });
    await svc.start(sctx(w));
    const errors = w.logs.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/sync\.mode/);
    expect(errors[0]?.msg).toMatch(/stay idle/);
    expect(svc.sync).toBeUndefined();
    expect(svc.requestSync({ kind: "command" })).toBe("idle-config-problems");
    expect(queueSessionCycle("session_start", { sessionId: "s" }, { sessionId: "s" }, w.logger, svc)).toBe("not-configured");
    expect(await syncNowText(svc, { commandBody: "/sync-now", isAuthorizedSender: true })).toMatch(/sync\.mode/);
    expect(await syncStatusText(svc)).toMatch(/idle.*\n- sync\.mode/);
    expect(activeService()).toBe(svc);
  });

  it("sync and backup schedules are independent: a backup-only config gets a backup schedule", async () => {
    const runners: JobRunners = {
      sync: vi.fn(async () => ({ arrived: [], folder: "_inbox", summary: "ok" })),
      backup: vi.fn(async () => ({ summary: "backup x committed" })),
    };
    svc = service(w, { backup: { enabled: true, provider: "local", local: { path: w.remote }, interval: 3600, encrypt: false, include: ["workspace"] } }, runners);
    await svc.start(sctx(w));
    expect(svc.problems).toEqual([]);
    expect(svc.sync).toBeUndefined();
    expect(svc.backup?.snapshot().nextRunAt).toBeGreaterThan(Date.now());
    expect(backupNowText(svc)).toMatch(/backup started/);
    await svc.backup?.whenIdle(5_000);
    expect(runners.backup).toHaveBeenCalledWith(expect.anything(), "command", true, expect.any(AbortSignal));
    expect(runners.sync).not.toHaveBeenCalled();
    expect(await syncNowText(svc, { commandBody: "/sync-now", isAuthorizedSender: true })).toMatch(/not configured/);
  });

  it("session hooks queue the configured cycle, coalesce with a run in flight and skip shutdown / other workspaces", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runners: JobRunners = {
      sync: vi.fn(async () => {
        await gate;
        return { arrived: [], folder: "_inbox", summary: "ok" };
      }),
      backup: vi.fn(),
    };
    svc = service(w, mailbox(w, { onSessionStart: true, onSessionEnd: true }), runners);
    await svc.start(sctx(w));
    const ctx = { sessionId: "s1", sessionKey: "agent:main:main", agentId: "main" };
    expect(queueSessionCycle("session_start", { sessionId: "s1" }, ctx, w.logger, svc)).toBe("started");
    expect(queueSessionCycle("session_end", { sessionId: "s1", reason: "reset" }, ctx, w.logger, svc)).toBe("queued");
    expect(queueSessionCycle("session_end", { sessionId: "s1", reason: "idle" }, ctx, w.logger, svc)).toBe("queued");
    expect(queueSessionCycle("session_end", { sessionId: "s1", reason: "shutdown" }, ctx, w.logger, svc)).toBe("shutdown");
    expect(queueSessionCycle("session_start", { sessionId: "s2" }, { sessionId: "s2", agentId: "other" }, w.logger, svc)).toBe("other-workspace");
    release();
    await svc.sync?.whenIdle(5_000);
    expect(runners.sync).toHaveBeenCalledTimes(2);
  });

  it("session hooks respect onSessionStart/onSessionEnd = false and never throw", async () => {
    svc = service(w, mailbox(w));
    await svc.start(sctx(w));
    expect(queueSessionCycle("session_start", { sessionId: "s" }, { sessionId: "s" }, w.logger, svc)).toBe("disabled");
    expect(queueSessionCycle("session_end", { sessionId: "s" }, { sessionId: "s" }, w.logger, svc)).toBe("disabled");
    const broken = { ctx: { config: { sync: { onSessionStart: true } } }, sessionUsesSyncedWorkspace: () => { throw new Error("x"); } } as never;
    expect(queueSessionCycle("session_start", { sessionId: "s" }, { sessionId: "s" }, w.logger, broken)).toBe("error");
    expect(w.logs.some((l) => l.level === "error" && /session_start hook failed/.test(l.msg))).toBe(true);
  });

  it("a failing cycle is logged through the host logger and the next one still runs", async () => {
    svc = service(w, { sync: { provider: "local", local: { path: "/nonexistent-root-dir/x" }, mode: "mailbox", remotePath: "share" } });
    await svc.start(sctx(w));
    const reply = await syncNowText(svc, { commandBody: "/sync-now", isAuthorizedSender: true });
    expect(reply).toMatch(/FAILED|done/);
    expect(svc.requestSync({ kind: "command" })).toBe("started");
    await svc.sync?.whenIdle(30_000);
  });

  it("stop() cancels a run in flight cleanly", async () => {
    let aborted = false;
    const runners: JobRunners = {
      sync: (_ctx, _t, signal) =>
        new Promise((_res, rej) => signal.addEventListener("abort", () => {
          aborted = true;
          rej(new Error("rclone killed"));
        })),
      backup: vi.fn(),
    };
    svc = service(w, mailbox(w), runners);
    await svc.start(sctx(w));
    svc.requestSync({ kind: "command" });
    await svc.stop();
    expect(aborted).toBe(true);
    expect(w.logs.some((l) => l.level === "info" && /cancelled because the gateway is stopping/.test(l.msg))).toBe(true);
    expect(w.logs.some((l) => l.level === "error")).toBe(false);
    expect(activeService()).toBeUndefined();
    svc = undefined;
  });

  it("heartbeat: written at start and after each run with the next run time, marked stopped by stop()", async () => {
    const runners: JobRunners = { sync: vi.fn(async () => ({ arrived: [], folder: "_inbox", summary: "ok" })), backup: vi.fn() };
    svc = service(w, mailbox(w, { interval: 300 }), runners);
    await svc.start(sctx(w));
    const first = await readHeartbeat(w.stateDir);
    expect(first).toMatchObject({ pid: process.pid, sync: { intervalS: 300 } });
    expect(heartbeatAlive(first)).toBe(true);
    expect(Date.parse(first!.sync!.nextRunAt!)).toBe(svc.sync!.snapshot().nextRunAt);
    svc.requestSync({ kind: "command" });
    await svc.sync?.whenIdle(5_000);
    await vi.waitFor(async () => expect(Date.parse((await readHeartbeat(w.stateDir))!.sync!.nextRunAt!)).toBeGreaterThan(Date.now() + 250_000));
    await svc.stop();
    svc = undefined;
    const stopped = await readHeartbeat(w.stateDir);
    expect(stopped?.stoppedAt).toBeDefined();
    expect(stopped?.sync?.nextRunAt).toBeUndefined();
    expect(heartbeatAlive(stopped)).toBe(false);
  });

  it("errors are reported by what they carry: busy is skipped (info), expected ones are one line, a bug adds its stack", async () => {
    const errors = [new BusyFailure("another run is in progress"), new OperationError("the remote did not answer"), new TypeError("x is undefined")];
    const runners: JobRunners = { sync: vi.fn(async () => Promise.reject(errors.shift())), backup: vi.fn() };
    svc = service(w, mailbox(w), runners);
    await svc.start(sctx(w));
    for (let i = 0; i < 3; i++) {
      svc.requestSync({ kind: "command" });
      await svc.sync?.whenIdle(5_000);
    }
    const lines = w.logs.filter((l) => /sync \(command\)/.test(l.msg));
    expect(lines[0]).toEqual({ level: "info", msg: "workspace-sync: sync (command) skipped: another run is in progress" });
    expect(lines[1]).toEqual({ level: "error", msg: "workspace-sync: sync (command) failed: the remote did not answer" });
    expect(lines[2]?.level).toBe("error");
    expect(lines[2]?.msg).toMatch(/^workspace-sync: sync \(command\) failed \(unexpected error\): TypeError: x is undefined\n\s+at /);
  });
});
