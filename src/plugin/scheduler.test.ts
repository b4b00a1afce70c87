import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JobSchedule, type RunRequest } from "./scheduler.js";

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("JobSchedule", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs first after the initial delay, then intervalMs after each run ENDED", async () => {
    const starts: number[] = [];
    let current = deferred();
    const s = new JobSchedule({
      name: "t",
      intervalMs: 60_000,
      initialDelayMs: 5_000,
      run: () => {
        starts.push(Date.now());
        return current.promise;
      },
      onError: () => {},
    });
    const t0 = Date.now();
    s.start();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(starts).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([t0 + 5_000]);
    // the run takes 30 s; the next one is due 60 s after it ended, not after it started
    await vi.advanceTimersByTimeAsync(30_000);
    current.resolve();
    current = deferred();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(starts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([t0 + 5_000, t0 + 95_000]);
    current.resolve();
    await s.stop(1_000);
  });

  it("coalesces requests during a run into exactly one follow-up run with every trigger", async () => {
    const reqs: RunRequest[] = [];
    let current = deferred();
    const s = new JobSchedule({
      name: "t",
      intervalMs: 0,
      initialDelayMs: 0,
      run: (req) => {
        reqs.push(req);
        return current.promise;
      },
      onError: () => {},
    });
    s.start();
    expect(s.request({ kind: "session_start", sessionKey: "a" })).toBe("started");
    expect(s.request({ kind: "session_end", sessionKey: "a" })).toBe("queued");
    expect(s.request({ kind: "session_end", sessionKey: "b" })).toBe("queued");
    expect(s.request({ kind: "command" })).toBe("queued");
    const first = current;
    current = deferred();
    first.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]?.triggers.map((t) => t.kind)).toEqual(["session_end", "session_end", "command"]);
    current.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(reqs).toHaveLength(2);
    expect(s.snapshot()).toMatchObject({ running: false, pending: false, runs: 2 });
  });

  it("without an interval never runs by itself", async () => {
    const run = vi.fn(async () => {});
    const s = new JobSchedule({ name: "t", intervalMs: 0, initialDelayMs: 10, run, onError: () => {} });
    s.start();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(run).not.toHaveBeenCalled();
    expect(s.snapshot().nextRunAt).toBeUndefined();
  });

  it("a requested run resets the interval clock", async () => {
    const starts: number[] = [];
    const s = new JobSchedule({
      name: "t",
      intervalMs: 60_000,
      initialDelayMs: 60_000,
      run: async () => {
        starts.push(Date.now());
      },
      onError: () => {},
    });
    const t0 = Date.now();
    s.start();
    await vi.advanceTimersByTimeAsync(50_000);
    s.request({ kind: "command" });
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(starts).toEqual([t0 + 50_000]);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([t0 + 50_000, t0 + 110_000]);
    await s.stop(10);
  });

  it("reports a failing run and keeps the schedule alive", async () => {
    const errors: unknown[] = [];
    let n = 0;
    const s = new JobSchedule({
      name: "t",
      intervalMs: 60_000,
      initialDelayMs: 1_000,
      run: async () => {
        n += 1;
        if (n === 1) throw new Error("boom");
      },
      onError: (e) => errors.push(e),
    });
    s.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(n).toBe(2);
    expect(errors).toHaveLength(1);
    await s.stop(10);
  });

  it("stop() aborts the run in flight, waits for it, drops queued work and refuses new requests", async () => {
    let sawAbort = false;
    const finished = vi.fn();
    const s = new JobSchedule({
      name: "t",
      intervalMs: 60_000,
      initialDelayMs: 0,
      run: (_req, signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            sawAbort = true;
            setTimeout(() => {
              finished();
              resolve();
            }, 500);
          });
        }),
      onError: () => {},
    });
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.request({ kind: "command" })).toBe("queued");
    const stopping = s.stop(5_000);
    await vi.advanceTimersByTimeAsync(500);
    await expect(stopping).resolves.toBe(true);
    expect(sawAbort).toBe(true);
    expect(finished).toHaveBeenCalledOnce();
    expect(s.request({ kind: "command" })).toBe("stopped");
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(s.snapshot()).toMatchObject({ running: false, runs: 1 });
  });

  it("stop() gives up after the grace period when a run ignores the abort", async () => {
    const s = new JobSchedule({ name: "t", intervalMs: 0, initialDelayMs: 0, run: () => new Promise(() => {}), onError: () => {} });
    s.request({ kind: "command" });
    const stopping = s.stop(2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(stopping).resolves.toBe(false);
  });

  it("whenIdle() resolves when the run and its follow-up are done, or false on timeout", async () => {
    let current = deferred();
    const s = new JobSchedule({ name: "t", intervalMs: 0, initialDelayMs: 0, run: () => current.promise, onError: () => {} });
    s.request({ kind: "command" });
    const idle = s.whenIdle(10_000);
    const timedOut = s.whenIdle(100);
    await vi.advanceTimersByTimeAsync(100);
    await expect(timedOut).resolves.toBe(false);
    current.resolve();
    await vi.advanceTimersByTimeAsync(0);
    await expect(idle).resolves.toBe(true);
    current = deferred();
  });
});
