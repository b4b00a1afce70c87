// Runs one rclone process: flag check against the detected version, JSON log parsing, bounded output,
// and a timeout/abort that ends the whole process tree (TERM, then KILL).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import type { RcloneBinary } from "./binary.js";
import { childEnv } from "../util/child-env.js";
import { OperationError } from "../util/errors.js";
import { explainError, parseLogLine, type RcloneLogEntry, type RcloneStats } from "./log-parse.js";
import { type RemoteProbe, StallWatch } from "./stall.js";
import { assertFlagsSupported } from "./version.js";

export interface RunOptions {
  args: string[];
  /** rclone.conf to use; omitted only for commands that need none (version, obscure). */
  configPath?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Data for rclone's stdin (rcat); errors on this pipe (EPIPE when rclone exits early) are absorbed. */
  stdin?: Readable;
  /**
   * rclone's stdin and stdout are this socket (the child's end of util/socket-link.ts), instead of `stdin` and
   * `stdout`; the runner closes its own copy once rclone has it.
   */
  socket?: Socket;
  /** Where stdout goes: captured (bounded), streamed line by line, piped, or dropped. */
  stdout?: { capture: number } | { lines: (line: string) => void } | { pipe: Writable } | "ignore";
  /** Add -v so per-file events (Copied, Deleted, Moved) are logged. */
  verbose?: boolean;
  onLog?: (entry: RcloneLogEntry) => void;
  onStats?: (stats: RcloneStats) => void;
  /**
   * Asked whether the remote still answers when the call has been quiet for a while without saying why
   * (stall.ts); a remote that does not answer stops the call as stalled.
   */
  stallProbe?: RemoteProbe;
  /** How long a call may be quiet before the stall watch acts (STALL_MS; tests shorten it). */
  stallMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * Variables handed to this one child on purpose, added after the secret filter (child-env.ts): an OAuth client
   * secret for `rclone authorize` reaches rclone through its environment because the alternative is argv.
   */
  secretEnv?: Record<string, string>;
  /** Told the child's pid right after spawn (to record rclone children of this run). */
  onSpawn?: (pid: number) => void;
  /** Grace period between TERM and KILL. */
  killGraceMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Why the caller aborted (the AbortSignal's reason, e.g. "interrupted by SIGINT"), for the summary. */
  abortReason?: string;
  /** Stopped because it made no progress after losing its connection to the remote (see stall.ts). */
  stalled?: boolean;
  stdout: string;
  /** Up to 20 distinct error/notice messages, for a short summary. */
  errors: string[];
  stats?: RcloneStats;
}

/** rclone exited with an error: an expected failure of the operation (exit 1), summarised without raw output. */
export class RcloneError extends OperationError {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    super(summarizeFailure(command, result));
    this.name = "RcloneError";
  }
}

const MAX_LINE = 64 * 1024;
const MAX_ERRORS = 20;

/** Long rclone messages (a 4 KB path, repeated) are cut in the middle: the start and the cause at the end stay. */
function clip(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max / 2 - 1)}…${text.slice(-(max / 2))}`;
}

export function summarizeFailure(command: string, result: RunResult): string {
  if (result.timedOut) return `rclone ${command} timed out and was stopped`;
  if (result.aborted) return `rclone ${command} was cancelled${result.abortReason ? ` (${result.abortReason})` : ""}`;
  if (result.stalled) {
    const first = result.errors.slice(0, 2).map((e) => clip(e)).join("; ");
    return `rclone ${command} lost its connection to the remote and stopped making progress, so it was stopped${first ? `: ${first}` : ""} — the remote could not be reached; check the network and the endpoint, then run again`;
  }
  const how = result.signal ? `was killed by ${result.signal}` : `failed (exit ${result.code})`;
  const first = result.errors.slice(0, 3).map((e) => clip(e)).join("; ");
  const hint = result.errors.map(explainError).find((h) => h !== undefined);
  return `rclone ${command} ${how}${first ? `: ${first}` : ""}${hint ? ` — ${hint}` : ""}`;
}

function killTree(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig); // the child leads its own process group (detached)
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

export function runRclone(bin: RcloneBinary, opts: RunOptions): Promise<RunResult> {
  assertFlagsSupported(bin.version, opts.args);
  const args = [...opts.args, "--use-json-log", "--ask-password=false"];
  if (opts.configPath) args.push("--config", opts.configPath);
  if (opts.verbose) args.push("-v");
  if (opts.onStats) args.push("--stats", "1s", "--stats-log-level", "NOTICE");

  const stdoutMode = opts.stdout ?? "ignore";
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(bin.path, args, {
      detached: true,
      env: { ...childEnv(opts.env ?? process.env), ...opts.secretEnv },
      stdio: opts.socket ? [opts.socket, opts.socket, "pipe"] : [opts.stdin ? "pipe" : "ignore", stdoutMode === "ignore" ? "ignore" : "pipe", "pipe"],
    });
    opts.socket?.destroy();
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const result: RunResult = { code: null, signal: null, timedOut: false, aborted: false, stdout: "", errors: [] };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      // exitCode stays null for a child killed by a signal: without signalCode, a stop after such an exit would
      // arm a KILL timer that holds the process for the grace period and then signals a maybe-reused group.
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      killTree(child.pid, "SIGTERM");
      killTimer ??= setTimeout(() => child.pid !== undefined && killTree(child.pid, "SIGKILL"), opts.killGraceMs ?? 10_000);
    };
    const timeout = opts.timeoutMs
      ? setTimeout(() => {
          result.timedOut = true;
          stop();
        }, opts.timeoutMs)
      : undefined;
    const onAbort = () => {
      result.aborted = true;
      const reason: unknown = opts.signal?.reason;
      if (reason instanceof Error && reason.name !== "AbortError") result.abortReason = reason.message;
      stop();
    };
    if (opts.signal?.aborted) onAbort();
    // Transfers report stats every second: those can be watched for a stall after a lost connection. With a probe,
    // any call is watched (stats, stdout and log count as movement): a quiet one asks the remote whether it answers.
    const stall = opts.onStats || opts.stallProbe
      ? new StallWatch(
          () => {
            result.stalled = true;
            stop();
          },
          opts.stallMs,
          opts.stallProbe,
        )
      : undefined;
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    if (opts.stdin && child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when rclone exits early; the exit code tells the story
      opts.stdin.on("error", () => stop());
      // What arrives in one turn of the event loop goes to the pipe in one writev: an HTTP/2 session writes each
      // 16 KiB frame (and its 9-byte header) as a chunk of its own, one system call each otherwise.
      const sink = child.stdin;
      let corked = false;
      opts.stdin.on("data", () => {
        stall?.progress(); // rclone took input: it is moving
        if (corked) return;
        corked = true;
        sink.cork();
        process.nextTick(() => {
          corked = false;
          sink.uncork();
        });
      });
      opts.stdin.pipe(sink);
    }

    let stdoutDone: Promise<void> = Promise.resolve();
    if (child.stdout && stdoutMode !== "ignore") {
      if ("capture" in stdoutMode) {
        let size = 0;
        const chunks: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => {
          stall?.progress();
          size += chunk.length;
          if (size > stdoutMode.capture) {
            result.errors.push(`output exceeded ${stdoutMode.capture} bytes`);
            stop();
            return;
          }
          chunks.push(chunk);
        });
        stdoutDone = new Promise((r) => child.stdout!.on("close", () => {
          result.stdout = Buffer.concat(chunks).toString("utf8");
          r();
        }));
      } else if ("lines" in stdoutMode) {
        const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
        rl.on("line", (line) => {
          stall?.progress();
          stdoutMode.lines(line);
        });
        stdoutDone = new Promise((r) => rl.on("close", () => r()));
      } else {
        child.stdout.on("data", () => stall?.progress());
        child.stdout.pipe(stdoutMode.pipe, { end: false });
        stdoutDone = new Promise((r) => child.stdout!.on("close", () => r()));
      }
    }

    const rl = createInterface({ input: child.stderr!, crlfDelay: Infinity });
    rl.on("line", (rawLine) => {
      const entry = parseLogLine(rawLine.length > MAX_LINE ? rawLine.slice(0, MAX_LINE) : rawLine);
      if (!entry) return;
      stall?.see(entry);
      if (entry.stats) {
        result.stats = entry.stats;
        opts.onStats?.(entry.stats);
        return;
      }
      if (entry.level === "error" || entry.level === "critical" || entry.level === "fatal") {
        const text = entry.object ? `${entry.object}: ${entry.msg}` : entry.msg;
        if (result.errors.length < MAX_ERRORS && !result.errors.includes(text)) result.errors.push(text.trim());
      }
      opts.onLog?.(entry);
    });
    const stderrDone = new Promise<void>((r) => rl.on("close", () => r()));

    child.on("error", (err) => {
      stall?.stop();
      clearTimeout(timeout);
      clearTimeout(killTimer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      stall?.stop();
      result.code = code;
      result.signal = signal;
      clearTimeout(timeout);
      opts.signal?.removeEventListener("abort", onAbort);
      // Anything rclone started in its group (rare) goes with it.
      if (child.pid !== undefined) killTree(child.pid, "SIGKILL");
      clearTimeout(killTimer);
      void Promise.all([stdoutDone, stderrDone]).then(() => resolve(result));
    });
  });
}

/** Runs rclone and throws an RcloneError unless it exited 0. */
export async function runRcloneChecked(bin: RcloneBinary, opts: RunOptions): Promise<RunResult> {
  const result = await runRclone(bin, opts);
  if (result.code !== 0) throw new RcloneError(opts.args[0] ?? "", result);
  return result;
}
