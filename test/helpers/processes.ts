// Test harness, processes: timeouts and waiting, loopback ports, temp dirs removed at exit, and server children in
// their own process group (killed with the test process, even on SIGKILL, through their stdin watchdog).
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const LOOPBACK = "127.0.0.1";
export const READY_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------------------

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** Rejects with TimeoutError when `promise` has not settled after `ms`. The timer never keeps the process alive. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago (the servers themselves bind port 0 and report theirs). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: LOOPBACK, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/** Polls until fn returns something other than undefined/false; undefined after the timeout. */
export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, stepMs = 20): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) return undefined;
    await sleep(stepMs);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Child process management
// ---------------------------------------------------------------------------------------------------------

const liveProcesses = new Set<ManagedProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const proc of liveProcesses) proc.killSync();
    if (!process.env.TEST_KEEP_SERVER_DIRS) {
      for (const dir of tempDirs) {
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {
          // best effort
        }
      }
    }
  });
}

export async function makeTempDir(prefix: string): Promise<string> {
  installExitHook();
  const dir = await mkdtemp(path.join(os.tmpdir(), `ows-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

const MAX_LOG = 64 * 1024;

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private output = "";
  private exited: Promise<void> = Promise.resolve();
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly label: string;

  constructor(label: string) {
    this.label = label;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  log(): string {
    return this.output;
  }

  /** Spawns in a new process group; resolves with the match of `ready` in the output. */
  start(command: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = READY_TIMEOUT_MS): Promise<RegExpExecArray> {
    this.output = "";
    this.exitInfo = undefined;
    const child = spawn(command, args, { env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    liveProcesses.add(this);
    this.exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        liveProcesses.delete(this);
        resolve();
      });
      child.once("error", (err) => {
        this.output += `\n[spawn error] ${err.message}\n`;
        if (!this.exitInfo) this.exitInfo = { code: null, signal: null };
        liveProcesses.delete(this);
        resolve();
      });
    });
    // Never keep the test process alive for a server a test forgot to stop.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as net.Socket | null)?.unref?.();
    child.stdin!.on("error", () => {});

    return new Promise<RegExpExecArray>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString("utf8");
        if (this.output.length > MAX_LOG) this.output = this.output.slice(-MAX_LOG);
        // Matched on the raw text: rclone's webdav "started" notice has no trailing newline.
        const m = ready.exec(this.output);
        if (m) finish(() => resolve(m));
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      void this.exited.then(() =>
        finish(() => reject(new Error(`${this.label} exited (${JSON.stringify(this.exitInfo)}) before it was ready:\n${this.output}`))),
      );
      const timer = setTimeout(() => {
        finish(() => {
          this.killSync();
          reject(new Error(`${this.label} not ready after ${timeoutMs} ms:\n${this.output}`));
        });
      }, timeoutMs);
    });
  }

  private signalGroup(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid || this.exitInfo) return;
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        this.child?.kill(sig);
      } catch {
        // gone
      }
    }
  }

  killSync(): void {
    this.signalGroup("SIGKILL");
  }

  /** SIGKILL to the whole group; resolves when the child is gone. */
  async kill(): Promise<void> {
    this.signalGroup("SIGKILL");
    await withTimeout(this.exited, 10_000, `${this.label} SIGKILL`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.signalGroup("SIGTERM");
    try {
      await withTimeout(this.exited, graceMs, `${this.label} SIGTERM`);
    } catch {
      await this.kill();
    }
  }
}

/** A fresh temp dir deleted at process exit (and by stopAll's exit hook). */
export function tempDir(prefix = "tmp"): Promise<string> {
  return makeTempDir(prefix);
}

/** Forgets a temp dir its owner removed itself. */
export function forgetTempDir(dir: string): void {
  tempDirs.delete(dir);
}

/** Kills every child still running and removes every temp dir (unless TEST_KEEP_SERVER_DIRS). */
export async function stopProcesses(): Promise<void> {
  for (const proc of [...liveProcesses]) await proc.kill().catch(() => {});
  if (!process.env.TEST_KEEP_SERVER_DIRS) {
    for (const dir of [...tempDirs]) {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      tempDirs.delete(dir);
    }
  }
}
