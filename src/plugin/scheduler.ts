// One job's schedule inside the gateway service (the sync cycle, or the backup): pure timing logic, no I/O.
//
// - interval: the first run comes `initialDelayMs` after start; every next run `intervalMs` after the previous run
//   ENDED (whatever triggered it), so runs never overlap or pile up.
// - request(): a hook or a slash command asks for a run. Idle → it starts at once (in the background: the caller
//   never waits). Running → the request is merged into ONE follow-up run after the current one (coalescing: ten
//   session_end events during a long cycle cost one extra cycle, not ten).
// - stop(): no new run starts; the run in flight is aborted through its AbortSignal and awaited (bounded).
// Every error of a run goes to onError; nothing escapes into the host.

import type { Trigger } from "../sync/engine.js";

/** What can start a service run: every trigger the engines record except a CLI invocation. */
export type TriggerKind = Exclude<Trigger, "cli">;

/** One request for a run, with the session that asked (hooks, slash commands) when there is one. */
export interface RunTrigger {
  kind: TriggerKind;
  sessionKey?: string;
  agentId?: string;
}

export interface RunRequest {
  /** Every trigger merged into this run, oldest first. */
  triggers: RunTrigger[];
}

export interface ScheduleOptions {
  name: string;
  /** 0 = no timer: the job runs only when requested. */
  intervalMs: number;
  initialDelayMs: number;
  run: (req: RunRequest, signal: AbortSignal) => Promise<unknown>;
  onError: (err: unknown, req: RunRequest) => void;
  /** Told when a run starts and when the schedule settles after one (next run armed): the service's heartbeat. */
  onStateChange?: () => void;
  now?: () => number;
}

export type RequestOutcome = "started" | "queued" | "stopped";

export interface ScheduleSnapshot {
  running: boolean;
  runningSince?: number;
  pending: boolean;
  nextRunAt?: number;
  lastEndedAt?: number;
  runs: number;
}

export class JobSchedule {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextRunAt: number | undefined;
  private current: { promise: Promise<void>; controller: AbortController; since: number } | undefined;
  private pending: RunRequest | undefined;
  private stopped = false;
  private started = false;
  private lastEndedAt: number | undefined;
  private runs = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly opts: ScheduleOptions) {
    this.now = opts.now ?? Date.now;
  }

  get name(): string {
    return this.opts.name;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    if (this.opts.intervalMs > 0) this.arm(this.opts.initialDelayMs);
  }

  request(trigger: RunTrigger): RequestOutcome {
    if (this.stopped) return "stopped";
    if (this.current) {
      this.pending = { triggers: [...(this.pending?.triggers ?? []), trigger] };
      return "queued";
    }
    this.launch({ triggers: [trigger] });
    return "started";
  }

  snapshot(): ScheduleSnapshot {
    return {
      running: !!this.current,
      runningSince: this.current?.since,
      pending: !!this.pending,
      nextRunAt: this.nextRunAt,
      lastEndedAt: this.lastEndedAt,
      runs: this.runs,
    };
  }

  /** Resolves when no run is in flight or queued (or after timeoutMs); true when idle. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (!this.current && !this.pending) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      t.unref?.();
      this.idleWaiters.push(done);
    });
  }

  /** Stops the schedule; aborts and awaits the run in flight for at most graceMs. True when nothing is left running. */
  async stop(graceMs: number): Promise<boolean> {
    this.stopped = true;
    this.disarm();
    this.pending = undefined;
    const cur = this.current;
    if (!cur) return true;
    cur.controller.abort(new Error(`${this.opts.name}: the gateway is stopping`));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      cur.promise.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
        timer.unref?.();
      }),
    ]);
    clearTimeout(timer);
    return finished;
  }

  private arm(delayMs: number): void {
    this.disarm();
    if (this.stopped || this.opts.intervalMs <= 0) return;
    this.nextRunAt = this.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.nextRunAt = undefined;
      this.request({ kind: "interval" });
    }, delayMs);
    // A pending schedule must not keep a CLI process alive; the gateway stays up on its own.
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.nextRunAt = undefined;
  }

  private launch(req: RunRequest): void {
    // A requested run replaces the armed interval tick; the next one is armed when this run ends.
    this.disarm();
    const controller = new AbortController();
    const since = this.now();
    const promise = (async () => {
      try {
        await this.opts.run(req, controller.signal);
      } catch (err) {
        try {
          this.opts.onError(err, req);
        } catch {
          // the error reporter itself must never take the host down
        }
      }
    })().finally(() => this.settle());
    this.current = { promise, controller, since };
    this.changed();
  }

  private changed(): void {
    try {
      this.opts.onStateChange?.();
    } catch {
      // a heartbeat problem must never stop the schedule
    }
  }

  private settle(): void {
    this.current = undefined;
    this.runs += 1;
    this.lastEndedAt = this.now();
    if (this.stopped) return this.notifyIdle();
    const next = this.pending;
    this.pending = undefined;
    if (next) return this.launch(next);
    this.arm(this.opts.intervalMs);
    this.changed();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
