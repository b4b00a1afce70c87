// Background work in the event loop's idle time. Some work runs beside a job only to be ready when the job ends (a
// restore's walk of the live files, for its comparison): run eagerly, it takes the main thread from the job whenever
// the job is what the thread is busy with. A gate lets it through only after a short window in which the loop was
// mostly idle (waiting for another thread or for I/O), so it fills those waits; once the job is done, hurry() opens
// the gate for good and the work finishes at full speed.
import { performance } from "node:perf_hooks";

export interface IdleGate {
  /** Settles once the loop was mostly idle over a window, or at once after hurry(). */
  turn(): Promise<void>;
  /** Opens the gate from now on (the job the work waited beside is done); wakes a waiting turn. */
  hurry(): void;
}

export interface IdleGateOptions {
  /** How long each look at the loop lasts (default 2 ms). */
  windowMs?: number;
  /** The loop counts as idle when it was busy for less than this share of the window (default 0.8). */
  busyBelow?: number;
}

export function idleGate(opts: IdleGateOptions = {}): IdleGate {
  const windowMs = opts.windowMs ?? 2;
  const busyBelow = opts.busyBelow ?? 0.8;
  let open = false;
  let wake: (() => void) | undefined;
  return {
    async turn() {
      while (!open) {
        const before = performance.eventLoopUtilization();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            wake = undefined;
            resolve();
          }, windowMs);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
        if (open || performance.eventLoopUtilization(performance.eventLoopUtilization(), before).utilization < busyBelow) return;
      }
    },
    hurry() {
      open = true;
      wake?.();
    },
  };
}
