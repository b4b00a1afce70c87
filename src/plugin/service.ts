// The gateway background service: owns the sync and backup schedules (independent of each other), runs what the
// session hooks and slash commands queue, and reports every failure through the host logger. A config problem
// leaves the service loaded and idle with one clear message; nothing here may crash or block the gateway.
import os from "node:os";
import path from "node:path";
import type { AppContext } from "../app/context.js";
import type { JobBeat, ServiceHeartbeat } from "../schedule/heartbeat.js";
import { CancelledRunError, isExpected } from "../util/errors.js";
import type { HostApi, HostLogger, HostRuntime, ServiceContext } from "./host-api.js";
import { adaptLogger, contextFromHost, hostLocations, type HostLocations, rawPluginConfig } from "./host-context.js";
import { defaultRunners, type JobRunners, stopJournals } from "./jobs.js";
import { mainSessionKey, notifyInbox } from "./notify.js";
import { JobSchedule, type RequestOutcome, type RunRequest, type RunTrigger } from "./scheduler.js";

export const SERVICE_ID = "workspace-sync";

/** Delay of the first scheduled run after the gateway starts (seconds); overridable for tests and slow hosts. */
export const START_DELAY_ENV = "OPENCLAW_WORKSPACE_SYNC_START_DELAY";
const DEFAULT_SYNC_START_DELAY_MS = 30_000;
const DEFAULT_BACKUP_START_DELAY_MS = 120_000;
/** stop(): how long a run in flight gets to end after its abort (rclone children get TERM, then KILL). */
export const STOP_GRACE_MS = 10_000;

export interface LastRun {
  trigger: string;
  at: string;
  ok: boolean;
  summary: string;
}

export type ServiceRequestOutcome = RequestOutcome | "not-configured" | "idle-config-problems";

export interface ServiceDeps {
  runtime: () => Pick<HostRuntime, "agent" | "state" | "system"> | undefined;
  pluginConfig: () => unknown;
  hostConfig: () => object;
  env?: NodeJS.ProcessEnv;
  runners?: JobRunners;
  startDelayMs?: { sync: number; backup: number };
}

function startDelays(env: NodeJS.ProcessEnv, override?: { sync: number; backup: number }): { sync: number; backup: number } {
  if (override) return override;
  const raw = env[START_DELAY_ENV];
  const sec = raw !== undefined && raw.trim() !== "" ? Number(raw) : Number.NaN;
  if (Number.isFinite(sec) && sec >= 0) return { sync: sec * 1000, backup: sec * 1000 };
  return { sync: DEFAULT_SYNC_START_DELAY_MS, backup: DEFAULT_BACKUP_START_DELAY_MS };
}

// The service instance the gateway started. Hooks and slash commands find it here even when the host built them
// in another register() pass; it is set only by start() (register() itself stays side-effect free).
let active: WorkspaceSyncService | undefined;
export function activeService(): WorkspaceSyncService | undefined {
  return active;
}

export class WorkspaceSyncService {
  ctx: AppContext | undefined;
  loc: HostLocations | undefined;
  sync: JobSchedule | undefined;
  backup: JobSchedule | undefined;
  lastSync: LastRun | undefined;
  lastBackup: LastRun | undefined;
  startError: string | undefined;
  private log: HostLogger = { info() {}, warn() {}, error() {} };
  private readonly runners: JobRunners;
  private readonly env: NodeJS.ProcessEnv;
  private readonly startedAt = new Date().toISOString();
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private heartbeatWrite: Promise<void> = Promise.resolve();
  private writeHeartbeat: ((stateDir: string, beat: ServiceHeartbeat) => Promise<void>) | undefined;

  constructor(private readonly deps: ServiceDeps) {
    this.runners = deps.runners ?? defaultRunners;
    this.env = deps.env ?? process.env;
  }

  get problems(): { key: string; message: string }[] {
    return this.ctx?.problems ?? [];
  }

  async start(sctx: ServiceContext): Promise<void> {
    this.log = sctx.logger;
    const log = adaptLogger(sctx.logger);
    active = this;
    try {
      const runtime = this.deps.runtime();
      this.loc = hostLocations({ stateDir: sctx.stateDir, workspaceDir: sctx.workspaceDir, hostConfig: this.deps.hostConfig(), runtime }, this.env);
      this.ctx = await contextFromHost(this.loc, rawPluginConfig(this.deps.pluginConfig(), this.deps.hostConfig()), this.env, log);
    } catch (err) {
      this.startError = (err as Error).message;
      log.error(`could not load the plugin config, staying idle: ${this.startError}`);
      return;
    }
    const ctx = this.ctx;
    if (ctx.problems.length) {
      log.error(
        `the plugin config (plugins.entries.openclaw-workspace-sync.config) has ${ctx.problems.length} problem(s); ` +
          `sync and backup stay idle until they are fixed:\n` +
          ctx.problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
      );
      return;
    }
    const delays = startDelays(this.env, this.deps.startDelayMs);
    const sync = ctx.config.sync;
    if (sync) {
      this.sync = new JobSchedule({
        name: "sync",
        intervalMs: sync.interval * 1000,
        initialDelayMs: delays.sync,
        run: (req, signal) => this.runSync(req, signal),
        onError: (err, req) => this.reportError("sync", err, req),
        onStateChange: () => void this.beat(),
      });
      this.sync.start();
    }
    const backup = ctx.config.backup;
    if (backup) {
      this.backup = new JobSchedule({
        name: "backup",
        intervalMs: backup.enabled ? backup.interval * 1000 : 0,
        initialDelayMs: delays.backup,
        run: (req, signal) => this.runBackup(req, signal),
        onError: (err, req) => this.reportError("backup", err, req),
        onStateChange: () => void this.beat(),
      });
      this.backup.start();
    }
    const parts = [
      sync ? `sync ${sync.mode} every ${sync.interval ? `${sync.interval}s` : "— (manual/hooks only)"}` : "sync not configured",
      backup ? (backup.enabled ? `backup every ${backup.interval}s` : "backup disabled (manual only)") : "backup not configured",
    ];
    log.info(`service started for ${ctx.workspaceDir} (${parts.join("; ")})`);
    if (this.sync || this.backup) {
      // loaded here, in the gateway only: register() and the host's other passes never pay for it
      const { HEARTBEAT_EVERY_MS, writeHeartbeat } = await import("../schedule/heartbeat.js");
      this.writeHeartbeat = writeHeartbeat;
      await this.beat();
      this.heartbeatTimer = setInterval(() => void this.beat(), HEARTBEAT_EVERY_MS);
      this.heartbeatTimer.unref?.();
    }
  }

  /**
   * Records that this service is alive and when each job runs next (schedule/heartbeat.ts), so `workspace-sync
   * status` in a shell shows "next sync" only while something will run it. Best effort: a write problem is logged.
   */
  private beat(stoppedAt?: string): Promise<void> {
    const ctx = this.ctx;
    const write = this.writeHeartbeat;
    if (!ctx || !write) return this.heartbeatWrite;
    const job = (sched: JobSchedule | undefined, intervalS: number): JobBeat | undefined => {
      if (!sched) return undefined;
      const s = sched.snapshot();
      return {
        intervalS,
        ...(s.nextRunAt !== undefined && !stoppedAt ? { nextRunAt: new Date(s.nextRunAt).toISOString() } : {}),
        ...(s.running && s.runningSince !== undefined ? { runningSince: new Date(s.runningSince).toISOString() } : {}),
      };
    };
    const sync = job(this.sync, ctx.config.sync?.interval ?? 0);
    const backup = job(this.backup, ctx.config.backup?.enabled ? ctx.config.backup.interval : 0);
    const beat: ServiceHeartbeat = {
      pid: process.pid,
      host: os.hostname(),
      startedAt: this.startedAt,
      beatAt: new Date().toISOString(),
      ...(stoppedAt ? { stoppedAt } : {}),
      ...(sync ? { sync } : {}),
      ...(backup ? { backup } : {}),
    };
    // one write at a time, in order: the file always ends with the newest beat
    this.heartbeatWrite = this.heartbeatWrite.then(() =>
      write(ctx.stateDir, beat).catch((err: Error) => ctx.log.debug(`heartbeat not written: ${err.message}`)),
    );
    return this.heartbeatWrite;
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    const results = await Promise.all([this.sync?.stop(STOP_GRACE_MS), this.backup?.stop(STOP_GRACE_MS)]);
    if (this.heartbeatTimer) await this.beat(new Date().toISOString());
    this.heartbeatTimer = undefined;
    stopJournals();
    if (results.some((r) => r === false)) this.log.warn("workspace-sync: a run did not end within the stop grace period");
    if (active === this) active = undefined;
  }

  requestSync(trigger: RunTrigger): ServiceRequestOutcome {
    if (!this.ctx || this.ctx.problems.length || this.startError) return "idle-config-problems";
    if (!this.sync) return "not-configured";
    return this.sync.request(trigger);
  }

  requestBackup(trigger: RunTrigger): ServiceRequestOutcome {
    if (!this.ctx || this.ctx.problems.length || this.startError) return "idle-config-problems";
    if (!this.backup) return "not-configured";
    return this.backup.request(trigger);
  }

  /** Does a session of this agent work in the synced workspace? Sessions of agents with their own workspace don't trigger it. */
  sessionUsesSyncedWorkspace(agentId: string | undefined): boolean {
    if (!agentId || !this.loc || agentId === this.loc.agentId) return true;
    const runtime = this.deps.runtime();
    if (!runtime) return true;
    try {
      const ws = runtime.agent.resolveAgentWorkspaceDir(this.deps.hostConfig(), agentId, this.env);
      return path.resolve(ws) === this.loc.workspaceDir;
    } catch {
      return false;
    }
  }

  private async runSync(req: RunRequest, signal: AbortSignal): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) return;
    const trigger = req.triggers[0]?.kind ?? "interval";
    const started = Date.now();
    const outcome = await cancellable(signal, () => this.runners.sync(ctx, trigger, signal));
    this.lastSync = { trigger: triggerLabel(req), at: new Date().toISOString(), ok: true, summary: outcome.summary };
    ctx.log.info(`sync (${triggerLabel(req)}) done in ${((Date.now() - started) / 1000).toFixed(1)}s: ${outcome.summary}`);
    const sync = ctx.config.sync;
    if (sync?.notifyOnInbox && outcome.arrived.length) {
      const runtime = this.deps.runtime();
      if (!runtime) return;
      notifyInbox(runtime, this.log, this.notifyTarget(req), outcome.arrived, { enabled: true, folder: outcome.folder });
    }
  }

  private async runBackup(req: RunRequest, signal: AbortSignal): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) return;
    const force = req.triggers.some((t) => t.kind === "command");
    const outcome = await cancellable(signal, () => this.runners.backup(ctx, force ? "command" : "interval", force, signal));
    this.lastBackup = { trigger: triggerLabel(req), at: new Date().toISOString(), ok: true, summary: outcome.summary };
    ctx.log.info(`backup (${triggerLabel(req)}): ${outcome.summary}`);
  }

  /** The session that hears about new files: the one whose hook queued the run, else the agent's main session. */
  private notifyTarget(req: RunRequest): { agentId: string; sessionKey: string } {
    const agentId = this.loc?.agentId ?? "main";
    for (let i = req.triggers.length - 1; i >= 0; i--) {
      const t = req.triggers[i];
      if (t?.sessionKey) return { agentId: t.agentId ?? agentId, sessionKey: t.sessionKey };
    }
    return { agentId, sessionKey: mainSessionKey(this.deps.hostConfig(), agentId) };
  }

  private reportError(job: "sync" | "backup", err: unknown, req: RunRequest): void {
    const message = err instanceof Error ? err.message : String(err);
    const record: LastRun = { trigger: triggerLabel(req), at: new Date().toISOString(), ok: false, summary: message };
    if (job === "sync") this.lastSync = record;
    else this.lastBackup = record;
    const prefix = `workspace-sync: ${job} (${triggerLabel(req)})`;
    // Expected errors are one line; a bug also gets its stack, so the gateway log says where it came from.
    if (err instanceof CancelledRunError) this.log.info(`${prefix} cancelled: ${message}`);
    else if (isExpected(err) && err.exitCode === 3) this.log.info(`${prefix} skipped: ${message}`);
    else if (isExpected(err)) this.log.error(`${prefix} failed: ${message}`);
    else this.log.error(`${prefix} failed (unexpected error): ${err instanceof Error && err.stack ? err.stack : message}`);
  }
}

/** A run that fails because stop() aborted it is a cancellation, not a failure. */
async function cancellable<T>(signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!signal.aborted) throw err;
    throw new CancelledRunError(`cancelled because the gateway is stopping (${(err as Error).message})`, { cause: err });
  }
}

function triggerLabel(req: RunRequest): string {
  const kinds = [...new Set(req.triggers.map((t) => t.kind))];
  return kinds.join("+") || "interval";
}

/** Wires a service instance into the host's service registration. */
export function serviceRegistration(api: Pick<HostApi, "runtime" | "pluginConfig" | "config">, deps: Partial<ServiceDeps> = {}) {
  let instance: WorkspaceSyncService | undefined;
  return {
    id: SERVICE_ID,
    async start(sctx: ServiceContext) {
      try {
        instance = new WorkspaceSyncService({
          runtime: () => {
            try {
              return api.runtime;
            } catch {
              return undefined;
            }
          },
          pluginConfig: () => api.pluginConfig,
          hostConfig: () => sctx.config ?? api.config,
          ...deps,
        });
        await instance.start(sctx);
      } catch (err) {
        sctx.logger.error(`workspace-sync: service start failed: ${(err as Error).message}`);
      }
    },
    async stop(sctx: ServiceContext) {
      try {
        await instance?.stop();
      } catch (err) {
        sctx.logger.error(`workspace-sync: service stop failed: ${(err as Error).message}`);
      } finally {
        instance = undefined;
      }
    },
  };
}
