// The repository transport: one `rclone serve restic --stdio REMOTE:PATH` child per repository, spoken to as a
// single HTTP/2 cleartext connection over its stdin/stdout (what restic's own rclone backend does; rclone
// cmd/serve/restic). Any rclone backend works, and rclone lays the files out as restic does (data/<2 hex>/<id>).
//
// - Requests in flight are bounded: a burst of ~200 streams made rclone answer ENHANCE_YOUR_CALM and drop the
//   session.
// - A dropped session (rclone killed or crashed, pipe closed) fails every request on it as transient; the next
//   attempt starts a new rclone. Each request, uploads included, is retried as a whole with backoff.
// - rclone runs through the product's runner: the found binary, `--config <product rclone.conf>`, an environment
//   without configured secrets, its own process group, stopped (TERM, then KILL) on close or abort.
// - rclone before 1.63 writes local, sftp and ftp files in place, and `serve restic --stdio` exits as soon as its
//   stdin closes, without waiting for the upload in flight: a writer killed mid-upload leaves a truncated file under
//   the final name. restic check fails on a truncated snapshot or index, so those (and keys, config) are uploaded to
//   a staging folder restic ignores and moved into place by `rclone moveto` (a rename, or a server-side copy on
//   object stores, where a PUT is atomic anyway). A truncated pack is only an unreferenced file (prune removes it).
import type { ClientHttp2Session, ClientHttp2Stream } from "node:http2";
import { Duplex, PassThrough } from "node:stream";
import type { RcloneBinary } from "../../../rclone/binary.js";
import { randomBytes } from "node:crypto";
import { socketLink } from "../../../util/socket-link.js";
import { remoteAnswers } from "../../../rclone/reach.js";
import { CONNECTION_LOST, STALL_MS, StallWatch } from "../../../rclone/stall.js";
import { runRclone, summarizeFailure, type RunOptions, type RunResult } from "../../../rclone/runner.js";
import { RC_START_FAILED, RcCallError, RcUnavailableError, RemoteControl } from "../../../rclone/remote-control.js";
import { atLeast } from "../../../rclone/version.js";
import { BodyCollector, PieceCollector } from "./body-collector.js";
import { BackendError } from "./errors.js";
import { mkdir, open, rm, stat } from "node:fs/promises";
import path from "node:path";
import { FileStage, fileSystemReason } from "./file-stage.js";
import type { ByteRange, CallOptions, FileInfo, FileType, ListableType, LoadOptions, ReadPieces, ReadShape, StagedFile, Storage } from "./storage.js";
import { notFound } from "./storage.js";

/** node:http2 (with net and tls, ~24 ms to load) only once a session starts: a local-folder repository never needs it. */
const http2 = () => process.getBuiltinModule("node:http2");

export interface RcloneStorageOptions {
  bin: RcloneBinary;
  /** The product's rclone.conf. */
  configPath: string;
  /** rclone path of the repository folder, e.g. "cloud:backups/repo". */
  remotePath: string;
  /** Environment for rclone (secrets are filtered out by the runner). */
  env?: NodeJS.ProcessEnv;
  /** How messages name the location (no secrets); defaults to remotePath. */
  display?: string;
  /** Requests in flight on the one connection (default 6). */
  maxStreams?: number;
  /** A request making no progress for this long fails as transient, and its session is restarted (default 120 s). */
  idleTimeoutMs?: number;
  /**
   * A request quiet this long (nothing received, no body sent) makes the product ask the remote itself, with one short
   * listing in an rclone of its own (rclone/stall.ts); a remote that does not answer ends the session, and its
   * requests fail for good (default 45 s).
   */
  stallMs?: number;
  /** How long that listing may take (default 30 s; tests shorten it). */
  probeTimeoutMs?: number;
  /** Attempts per request after the first, on transient failures (default 4). */
  retries?: number;
  /** First backoff delay; doubles per attempt (default 500 ms). */
  backoffMs?: number;
  /** Extra rclone flags (e.g. --bwlimit). */
  extraArgs?: string[];
  /**
   * Told each rclone child's pid (to record it, and for tests): the session, or a short-lived one ("move": the
   * `moveto` of a staged save, the probe of a remote that went quiet).
   */
  onSpawn?: (pid: number, role: "session" | "move") => void;
  /**
   * Upload snapshots, index, keys and config to the staging folder and move them into place (default: when rclone
   * is older than 1.63, which has no partial-file uploads).
   */
  stagedSaves?: boolean;
  /**
   * A folder on this machine where data packs are written while they fill and uploaded from once complete (as
   * restic does with its temporary files): memory then holds no pack. Without it, packs are kept in memory.
   */
  spoolDir?: string;
}

/** A request body read from a file on this machine (a spooled pack), again for each attempt. */
export interface FileBody {
  file: string;
  size: number;
}
type Body = readonly Uint8Array[] | FileBody;
const bodySize = (b: Body) => ("file" in b ? b.size : b.reduce((n, p) => n + p.length, 0));

/** Folder beside restic's own (which restic never lists) for uploads not yet moved into place. */
export const STAGING_FOLDER = "openclaw-staging";
const STAGED_TYPES: ReadonlySet<FileType> = new Set(["snapshots", "index", "keys", "config"]);

interface Session {
  h2: ClientHttp2Session;
  stop: AbortController;
  exited: Promise<RunResult>;
  dead: boolean;
  /** rclone answered at least one request: it started and reached the remote's configuration. */
  answered: boolean;
  /** rclone exited by itself with an error before answering anything (bad remote, config error): not transient. */
  startupFailed: boolean;
  /** Ended because a request went quiet and the remote did not answer (see watch): not transient either. */
  stalled: boolean;
  /** Why the session ended, for the error of requests that were on it. */
  why?: string;
  /** rclone's last logged error (the reason behind an HTTP 500). */
  lastError?: string;
  /** Ends rclone's stdin, so that rclone exits at once (destroying the HTTP/2 session alone may not end it). */
  endInput: () => void;
  /** Ends the session (and its rclone); the next request starts a new one. */
  end: (why: string) => void;
  /** rclone's remote control in this child, where staged saves are moved into place. */
  rc?: RemoteControl;
}

interface ExchangeOptions {
  headers?: Record<string, string>;
  body?: Body;
  signal?: AbortSignal;
  /** A ranged GET's body taken piece by piece (LoadOptions.pieces). */
  pieces?: ReadPieces;
}

interface Response {
  status: number;
  body: Buffer;
  /** rclone's last logged error when the answer came (explains a 500). */
  lastError?: string;
}

const RECEIVE_WINDOW = 8 * 1024 * 1024;

/**
 * Pack data read through rclone in few large requests. Each request opens the object anew on the remote: rclone's
 * sftp backend reads ahead up to 2 MiB past the range asked for (64 concurrent 32 KiB requests) and cloud APIs bill
 * and throttle per request. A read of up to 16 MiB takes most of a pack's wanted blobs at once (restic's restorer
 * reads each pack with one request), yet holds little: it arrives in pieces of a few blobs (LoadOptions.pieces), each
 * freed once its blobs are decoded, so memory is the 24 MiB window of stored bytes ahead of the writer, not the reads.
 * Blobs are decoded when taken (the window holds the smaller stored form). Measured on restores over `rclone serve
 * sftp` on loopback into tmpfs, alternating with restic (docs/performance.md, 2026-12-07 evening): 1 GiB 1.41–1.55x
 * restic's time with 6 MiB reads in a 12 MiB window (each read one buffer until its last blob was decoded), 1.17–1.38x
 * with this shape at the same peak RSS (134–144 MiB); 257 MB 1.5–1.73x → 1.25–1.38x. Earlier, the local folder's shape
 * (2 MiB reads, 4 in flight, 4 MiB window) made ~600 requests and moved 1.9 GB for 750 MB of packs.
 */
export const RCLONE_READ_SHAPE: ReadShape = { aheadBytes: 24 << 20, reads: 2, maxReadBytes: 16 << 20, decodeOnWorker: false };

/** Attempts after the first for an HTTP error answer: rclone already retried the remote itself. */
const HTTP_RETRIES = 2;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** A small FIFO semaphore bounding the streams in flight. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function urlPath(type: FileType, name: string): string {
  if (type === "config") return "/config";
  if (!/^[0-9a-zA-Z._-]+$/.test(name)) throw new Error(`invalid repository file name ${JSON.stringify(name)}`);
  return `/${type}/${name}`;
}

export class RcloneStorage implements Storage {
  readonly location: string;
  readonly readShape = RCLONE_READ_SHAPE;
  private session: Session | undefined;
  private starting: Promise<Session> | undefined;
  private readonly slots: Slots;
  private closed = false;
  /** rclone children started so far (restarts after dropped sessions included). */
  spawned = 0;
  /** Staged saves moved into place through a session's remote control (tests; the rest ran `rclone moveto`). */
  movedInProcess = 0;
  /** The probe of the remote under way, shared by every request that went quiet or was cut off meanwhile. */
  private probing: Promise<boolean> | undefined;
  private readonly probeStop = new AbortController();
  /** An rclone could not serve its remote control (no loopback port here): later sessions start without it. */
  private rcRefused = false;

  constructor(private readonly opts: RcloneStorageOptions) {
    this.location = opts.display ?? opts.remotePath;
    this.slots = new Slots(opts.maxStreams ?? 6);
  }

  /**
   * Does the remote still answer? Asked (one short listing in an rclone of its own, rclone/reach.ts) when a request
   * went quiet or was cut off with a connection error: rclone 1.60's sftp backend retries each read of a vanished
   * server for ~30 s or hangs on it for good (while it answers the session's other requests), and a server that
   * accepts connections but never answers leaves it silent.
   */
  private remoteAnswers(): Promise<boolean> {
    this.probing ??= remoteAnswers(this.opts.bin, { configPath: this.opts.configPath, path: () => this.opts.remotePath }, this.opts.env ?? process.env, {
      signal: this.probeStop.signal,
      onSpawn: (p) => this.opts.onSpawn?.(p, "move"),
      ...(this.opts.probeTimeoutMs ? { timeoutMs: this.opts.probeTimeoutMs } : {}),
    }).finally(() => (this.probing = undefined));
    return this.probing;
  }

  /** rclone's last error is about the connection, and the remote does not answer a probe either. */
  private async goneAway(lastError: string | undefined): Promise<boolean> {
    return lastError !== undefined && CONNECTION_LOST.test(lastError) && !(await this.remoteAnswers());
  }

  /**
   * Watches one request: quiet for stallMs (nothing received, no body sent), the remote is asked; one that does not
   * answer ends the session, and the request (with the others on it) fails for good with `fail`. The caller reports
   * progress and stops the watch when the request settles.
   */
  private watch(session: Session, what: string, cancel: () => void, fail: (err: BackendError) => void): StallWatch {
    const stallMs = this.opts.stallMs ?? STALL_MS;
    return new StallWatch(
      () => {
        const why = `${what} on ${this.location} made no progress for ${Math.round(stallMs / 1000)} s and the remote did not answer — the remote could not be reached; check the network and the endpoint, then run again`;
        session.stalled = true;
        cancel();
        session.end(why);
        fail(new BackendError(why, false));
      },
      stallMs,
      () => this.remoteAnswers(),
    );
  }

  private async startSession(): Promise<Session> {
    if (this.closed) throw new BackendError(`the connection to ${this.location} is closed`, false);
    let session: Session;
    // Staged saves are moved into place through the session's own rclone (its remote control) rather than an rclone
    // started per move. Without a folder for its password file, or where it cannot be served, `rclone moveto` does it.
    const rc = this.stagesSaves() && this.opts.spoolDir && !this.rcRefused ? await RemoteControl.prepare(this.opts.spoolDir).catch(() => undefined) : undefined;
    const wire = await childWire();
    const stop = new AbortController();
    const exited = runRclone(this.opts.bin, {
      args: ["serve", "restic", "--stdio", this.opts.remotePath, ...(rc?.args ?? []), ...(this.opts.extraArgs ?? [])],
      configPath: this.opts.configPath,
      env: rc ? RemoteControl.childEnv(this.opts.env ?? process.env) : this.opts.env,
      ...wire.run,
      signal: stop.signal,
      killGraceMs: 5_000,
      onLog: (entry) => {
        rc?.see(entry);
        if (entry.level === "error" || entry.level === "critical") session.lastError = (entry.object ? `${entry.object}: ${entry.msg}` : entry.msg).trim().slice(0, 300);
      },
      onSpawn: (p) => {
        this.spawned++;
        this.opts.onSpawn?.(p, "session");
      },
    });
    const socket = wire.ours;
    socket.on("error", () => {});
    // Receive windows of 64 KiB (the HTTP/2 default) cap downloads over the pipe; packs are up to 16 MiB+.
    const h2 = http2().connect("http://localhost", { createConnection: () => socket as never, settings: { initialWindowSize: RECEIVE_WINDOW } });
    h2.on("connect", () => h2.setLocalWindowSize(RECEIVE_WINDOW * 4));
    const die = (why: string) => {
      if (session.dead) return;
      session.dead = true;
      session.why ??= why;
      if (this.session === session) this.session = undefined;
      h2.destroy();
      wire.endInput();
      // rclone exits once its input ends, and is stopped if it has not within a moment (hung on its remote). Not at
      // once: over a socket, rclone's own end closing (it is exiting by itself) can reach us before its exit does,
      // and a stopped rclone's exit status could no longer tell a startup failure (a bad remote: not retried).
      const kill = setTimeout(() => stop.abort(), 2_000);
      void exited.finally(() => clearTimeout(kill)).catch(() => {});
    };
    session = { h2, stop, exited, dead: false, answered: false, startupFailed: false, stalled: false, endInput: wire.endInput, end: die, ...(rc ? { rc } : {}) };
    h2.on("error", (err) => die(`the HTTP/2 session failed (${err.message})`));
    h2.on("goaway", (code) => die(`rclone ended the session (GOAWAY ${code})`));
    h2.on("close", () => die("the session closed"));
    exited.then(
      (res) => {
        session.startupFailed = !session.answered && !res.aborted && res.code !== null && res.code !== 0;
        void rc?.dispose();
        if (session.startupFailed && rc && RC_START_FAILED.test(session.lastError ?? "")) {
          // Not the remote's fault: the next attempt starts rclone without its remote control.
          this.rcRefused = true;
          session.startupFailed = false;
        }
        // A session ended by a stalled request keeps that reason (its rclone was stopped for it).
        if (!session.stalled) session.why = res.aborted && this.closed ? "the connection was closed" : summarizeFailure("serve restic", res);
        wire.exited();
        die(session.why ?? "rclone exited");
      },
      (err: Error) => {
        void rc?.dispose();
        die(`rclone could not be started (${err.message})`);
      },
    );
    return session;
  }

  private async getSession(): Promise<Session> {
    if (this.session && !this.session.dead) return this.session;
    // The session is recorded as soon as it exists, before `starting` is cleared: a request arriving in between
    // must find it, not start a second rclone that nothing would ever close.
    this.starting ??= this.startSession()
      .then((s) => (this.session = s))
      .finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** One HTTP/2 exchange on the current session. Failures of the session or the stream are transient. */
  private async exchange(method: string, path: string, opts: ExchangeOptions): Promise<Response> {
    await this.slots.take();
    try {
      const session = await this.getSession();
      return await new Promise<Response>((resolve, reject) => {
        let stream: ClientHttp2Stream;
        let watching: StallWatch | undefined;
        const fail = (err: BackendError) => {
          cleanup();
          reject(err);
        };
        const onAbort = () => {
          stream?.close(http2().constants.NGHTTP2_CANCEL);
          fail(new BackendError(`${method} ${path} on ${this.location} was cancelled`, false, undefined, { cause: opts.signal?.reason }));
        };
        const cleanup = () => {
          watching?.stop();
          opts.signal?.removeEventListener("abort", onAbort);
        };
        if (opts.signal?.aborted) return onAbort();
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        try {
          const size = opts.body ? bodySize(opts.body) : undefined;
          stream = session.h2.request(
            { ":method": method, ":path": path, ...(size !== undefined ? { "content-length": String(size) } : {}), ...opts.headers },
            { endStream: opts.body === undefined },
          );
        } catch (err) {
          return fail(new BackendError(`${method} ${path} on ${this.location}: ${(err as Error).message}${session.why ? ` (${session.why})` : ""}`, true, undefined, { cause: err }));
        }
        let status = 0;
        let body = new BodyCollector();
        let pieces: PieceCollector | undefined;
        const watch = (watching = this.watch(session, `${method} ${path}`, () => stream.close(http2().constants.NGHTTP2_CANCEL), fail));
        stream.on("close", () => watch.stop());
        stream.on("drain", () => watch.progress());
        stream.setTimeout(this.opts.idleTimeoutMs ?? 120_000, () => {
          stream.close(http2().constants.NGHTTP2_CANCEL);
          const why = `${method} ${path} on ${this.location} timed out (no progress for ${Math.round((this.opts.idleTimeoutMs ?? 120_000) / 1000)} s)`;
          // The remote answers (else the stall watch had ended the session), but this rclone does not: the retry
          // gets a new one (rclone 1.60's sftp connection pool does not recover from a server that went away).
          session.end(why);
          fail(new BackendError(why, true));
        });
        stream.on("response", (headers) => {
          watch.progress();
          status = Number(headers[":status"]);
          session.answered = true;
          // A read taken piece by piece is never held whole.
          if (!(opts.pieces && status === 206)) body.expect(Number(headers["content-length"] ?? NaN));
        });
        stream.on("data", (c: Buffer) => {
          watch.progress();
          // Only a partial answer's bytes are the range asked for (a 200 is the whole file, an error its text).
          if (opts.pieces && status === 206) {
            if (!pieces) {
              pieces = new PieceCollector(opts.pieces);
              const early = body.done();
              body = new BodyCollector();
              if (early.length) pieces.add(early);
            }
            pieces.add(c);
          } else body.add(c);
        });
        const lost = (detail: string, cause?: unknown) => {
          cleanup();
          void this.lostError(session, `${method} ${path}`, detail, cause).then(reject);
        };
        stream.on("end", () => {
          if (status === 0) return lost("the connection to rclone was lost before an answer");
          cleanup();
          resolve({ status, body: pieces ? Buffer.alloc(0) : body.done(), lastError: session.lastError });
        });
        stream.on("error", (err) => lost(`failed: ${err.message}`, err));
        stream.on("close", () => {
          if (status === 0 || stream.rstCode !== http2().constants.NGHTTP2_NO_ERROR) setImmediate(() => lost("the connection to rclone was lost"));
        });
        if (opts.body) void ("file" in opts.body ? writeFileBody(stream, opts.body) : writeBody(stream, opts.body)).catch((err: Error) => stream.destroy(err));
      });
    } finally {
      this.slots.give();
    }
  }

  /**
   * The error for a request whose session went away. Waits briefly for rclone's exit, so the message carries
   * rclone's own explanation, and so a startup failure (unknown remote, bad config) is not retried.
   */
  private async lostError(session: Session, what: string, detail: string, cause?: unknown): Promise<BackendError> {
    // Always: a session that closed before rclone's exit was seen would otherwise miss why it ended (a stall).
    await Promise.race([session.exited.catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
    const why = session.why ? ` (${session.why})` : "";
    // A request cut off while rclone's last error is about the connection: worth another attempt only if the remote
    // still answers (rclone's own retries of a vanished sftp server take ~30 s per attempt).
    if (!session.startupFailed && !session.stalled && (await this.goneAway(session.lastError))) {
      return new BackendError(`${what} on ${this.location}: ${detail}${why}: ${session.lastError} — the remote could not be reached; check the network and the endpoint, then run again`, false, undefined, { cause });
    }
    return new BackendError(`${what} on ${this.location}: ${detail}${why}`, !session.startupFailed && !session.stalled, undefined, { cause });
  }

  /** Runs `attempt`, retrying transient BackendErrors as a whole with exponential backoff. */
  private async retrying<T>(attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const retries = this.opts.retries ?? 4;
    let delay = this.opts.backoffMs ?? 500;
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const limit = err instanceof BackendError && err.status !== undefined ? Math.min(retries, HTTP_RETRIES) : retries;
        if (!(err instanceof BackendError && err.transient) || n >= limit || this.closed || signal?.aborted) throw err;
        await sleep(delay, signal);
        delay *= 2;
      }
    }
  }

  /** An exchange whose status must be one of `accept`; 5xx and 429 count as transient. */
  private call(what: string, method: string, path: string, opts: ExchangeOptions = {}, accept: number[] = [200]): Promise<Response> {
    return this.retrying(async () => {
      const res = await this.exchange(method, path, opts);
      if (accept.includes(res.status)) return res;
      const text = res.body.toString("utf8").trim().slice(0, 200);
      const reason = res.status >= 500 && res.lastError ? `: ${res.lastError}` : text ? ` (${text})` : "";
      // rclone's own retries of a remote that went away take ~30 s per request (sftp): retrying only makes the user wait.
      if (res.status >= 500 && (await this.goneAway(res.lastError))) {
        throw new BackendError(`${what} on ${this.location} failed: rclone answered HTTP ${res.status}${reason} — the remote could not be reached; check the network and the endpoint, then run again`, false, res.status);
      }
      throw new BackendError(`${what} on ${this.location} failed: rclone answered HTTP ${res.status}${reason}`, res.status >= 500 || res.status === 429, res.status);
    }, opts.signal);
  }

  async create(opts?: CallOptions): Promise<void> {
    await this.call("creating the repository folders", "POST", "/?create=true", { signal: opts?.signal });
  }

  async list(type: ListableType, opts?: CallOptions): Promise<FileInfo[]> {
    const res = await this.call(`listing ${type}/`, "GET", `/${type}/`, { headers: { accept: "application/vnd.x.restic.rest.v2" }, signal: opts?.signal }, [200, 404]);
    if (res.status === 404) return [];
    const doc = JSON.parse(res.body.toString("utf8")) as unknown;
    if (!Array.isArray(doc)) throw new BackendError(`listing ${type}/ on ${this.location}: rclone answered something other than a v2 listing`, false);
    return (doc as { name?: unknown; size?: unknown }[])
      .filter((e): e is FileInfo => typeof e?.name === "string" && typeof e.size === "number")
      .map((e) => ({ name: e.name, size: e.size }));
  }

  async stat(type: FileType, name: string, opts?: CallOptions): Promise<number | undefined> {
    const path = urlPath(type, name);
    return this.retrying(() => this.head(path, opts?.signal), opts?.signal);
  }

  /** HEAD has no body to collect: the size is the answer's content-length. */
  private async head(path: string, signal?: AbortSignal): Promise<number | undefined> {
    await this.slots.take();
    try {
      const session = await this.getSession();
      return await new Promise<number | undefined>((resolve, reject) => {
        let stream: ClientHttp2Stream;
        try {
          stream = session.h2.request({ ":method": "HEAD", ":path": path }, { endStream: true, signal });
        } catch (err) {
          return reject(new BackendError(`HEAD ${path} on ${this.location}: ${(err as Error).message}`, true, undefined, { cause: err }));
        }
        let answered = false;
        const watch = this.watch(session, `HEAD ${path}`, () => stream.close(http2().constants.NGHTTP2_CANCEL), reject);
        stream.on("close", () => watch.stop());
        stream.setTimeout(this.opts.idleTimeoutMs ?? 120_000, () => {
          stream.close(http2().constants.NGHTTP2_CANCEL);
          session.end(`HEAD ${path} timed out`);
          reject(new BackendError(`HEAD ${path} on ${this.location} timed out`, true));
        });
        stream.on("response", (headers) => {
          watch.stop();
          answered = true;
          session.answered = true;
          const status = Number(headers[":status"]);
          if (status === 404) resolve(undefined);
          else if (status === 200) resolve(Number(headers["content-length"] ?? 0));
          else reject(new BackendError(`HEAD ${path} on ${this.location}: rclone answered HTTP ${status}`, status >= 500, status));
        });
        stream.on("error", (err) => {
          if (signal?.aborted) reject(new BackendError(`HEAD ${path} on ${this.location} was cancelled`, false));
          else void this.lostError(session, `HEAD ${path}`, `failed: ${err.message}`, err).then(reject);
        });
        stream.on("close", () => {
          if (!answered && !signal?.aborted) void this.lostError(session, `HEAD ${path}`, "the connection to rclone was lost").then(reject);
        });
        stream.resume();
      });
    } finally {
      this.slots.give();
    }
  }

  async load(type: FileType, name: string, range?: ByteRange, opts?: LoadOptions): Promise<Buffer> {
    if (range && range.length === 0) return Buffer.alloc(0);
    const headers = range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : undefined;
    const pieces = range ? opts?.pieces : undefined;
    const res = await this.call(`reading ${type}/${name}`, "GET", urlPath(type, name), { headers, signal: opts?.signal, ...(pieces ? { pieces } : {}) }, [200, 206, 404]);
    if (res.status === 404) throw notFound(type, name, this.location);
    if (range && res.status === 200) return res.body.subarray(range.offset, range.offset + range.length);
    return res.body;
  }

  /**
   * A data pack written to a file in the spool folder while it fills, uploaded from there once complete (each
   * attempt reads the file again) and then removed. Undefined without a spool folder: the pack stays in memory.
   */
  stage(type: FileType): StagedFile | undefined {
    const spool = this.opts.spoolDir;
    if (!spool || type !== "data") return undefined;
    const file = path.join(spool, `${randomBytes(8).toString("hex")}.pack`);
    const fs = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
      try {
        await mkdir(spool, { recursive: true, mode: 0o700 });
        return await step();
      } catch (err) {
        if (err instanceof BackendError) throw err;
        throw new BackendError(`${what} in the local spool folder ${spool} failed: ${fileSystemReason(err)} (packs for ${this.location} are written there before they are uploaded)`, false, undefined, { cause: err });
      }
    };
    return new FileStage(file, fs, async (written, handle, t, n, opts) => {
      await handle.close();
      const { size } = await stat(written);
      await this.saveBody(t, n, { file: written, size }, opts);
      await rm(written, { force: true });
    });
  }

  save(type: FileType, name: string, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void> {
    return this.saveBody(type, name, data instanceof Uint8Array ? [data] : data, opts);
  }

  private async saveBody(type: FileType, name: string, body: Body, opts?: CallOptions): Promise<void> {
    const final = urlPath(type, name);
    if (!this.stagesSaves() || !STAGED_TYPES.has(type)) {
      await this.call(`storing ${type}/${name}`, "POST", final, { body, signal: opts?.signal });
      return;
    }
    const staged = `${STAGING_FOLDER}/${type}-${name}-${randomBytes(4).toString("hex")}`;
    await this.call(`storing ${type}/${name}`, "POST", `/${staged}`, { body, signal: opts?.signal });
    await this.retrying(() => this.moveIntoPlace(staged, final.slice(1), opts?.signal), opts?.signal);
  }

  private stagesSaves(): boolean {
    return this.opts.stagedSaves ?? !atLeast(this.opts.bin.version, 1, 63);
  }

  /**
   * Moves a staged upload to its final path: through the session's remote control when it has one (a rename on the
   * connection rclone already holds), else `rclone moveto`. A failure is transient unless rclone could not start.
   */
  private async moveIntoPlace(staged: string, final: string, signal?: AbortSignal): Promise<void> {
    const rc = this.session && !this.session.dead ? this.session.rc : undefined;
    if (rc?.ready) {
      const base = this.opts.remotePath;
      try {
        await rc.call("operations/movefile", { srcFs: base, srcRemote: staged, dstFs: base, dstRemote: final }, { timeoutMs: this.opts.stallMs ?? STALL_MS, ...(signal ? { signal } : {}) });
        this.movedInProcess++;
        return;
      } catch (err) {
        if (signal?.aborted) throw new BackendError(`moving ${final} into place on ${this.location} was cancelled`, false);
        if (err instanceof RcCallError) {
          if (await this.movedAlready(staged, final, signal)) return;
          throw new BackendError(`moving ${final} into place on ${this.location} failed: ${err.message}`, true);
        }
        if (!(err instanceof RcUnavailableError)) throw err;
        // rc is gone or silent (the rclone is restarting, its file was removed, the remote hangs): an rclone of its own
        // does the move below, watched by the stall probe; a move that happened meanwhile is found done there.
      }
    }
    const res = await runRclone(this.opts.bin, {
      args: ["moveto", this.child(staged), this.child(final), ...(this.opts.extraArgs ?? [])],
      configPath: this.opts.configPath,
      env: this.opts.env,
      timeoutMs: this.opts.idleTimeoutMs ?? 120_000,
      ...(signal ? { signal } : {}),
      onSpawn: (p) => this.opts.onSpawn?.(p, "move"),
      stallProbe: () => this.remoteAnswers(),
    });
    if (res.code === 0) return;
    if (res.aborted) throw new BackendError(`moving ${final} into place on ${this.location} was cancelled`, false);
    if (await this.movedAlready(staged, final, signal)) return;
    throw new BackendError(`moving ${final} into place on ${this.location} failed: ${summarizeFailure("moveto", res)}`, true);
  }

  /** A move that failed after it was done (or an earlier attempt's) left the file in place and nothing staged. */
  private async movedAlready(staged: string, final: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.head(`/${final}`, signal)) !== undefined && (await this.head(`/${staged}`, signal)) === undefined;
  }

  /** rclone path of a file inside the repository folder. */
  private child(rel: string): string {
    const base = this.opts.remotePath;
    return base.endsWith(":") || base.endsWith("/") ? `${base}${rel}` : `${base}/${rel}`;
  }

  /**
   * Removes staged uploads a killed writer left behind. Only under an exclusive lock: no writer of ours is active,
   * and restic never uses the folder.
   */
  async removeStaged(opts?: CallOptions): Promise<void> {
    // A missing folder is the usual case; any other failure leaves only small stray files, retried at the next prune.
    await runRclone(this.opts.bin, {
      args: ["delete", "--rmdirs", this.child(STAGING_FOLDER), ...(this.opts.extraArgs ?? [])],
      configPath: this.opts.configPath,
      env: this.opts.env,
      timeoutMs: this.opts.idleTimeoutMs ?? 120_000,
      ...(opts?.signal ? { signal: opts.signal } : {}),
      onSpawn: (p) => this.opts.onSpawn?.(p, "move"),
      stallProbe: () => this.remoteAnswers(),
    });
  }

  async remove(type: FileType, name: string, opts?: CallOptions): Promise<void> {
    const res = await this.call(`deleting ${type}/${name}`, "DELETE", urlPath(type, name), { signal: opts?.signal }, [200, 404]);
    void res;
  }

  /** Starts rclone and its session now (a start failure is met again by the first request, which starts anew). */
  warm(): void {
    void this.getSession().catch(() => {});
  }

  /** Ends the session; rclone exits when its stdin closes, and is stopped if it does not. */
  async close(): Promise<void> {
    this.closed = true;
    this.probeStop.abort(); // a probe of the remote under way has nobody left to tell
    const s = this.session ?? (await this.starting?.catch(() => undefined));
    if (!s) return;
    await new Promise<void>((resolve) => {
      if (s.dead) return resolve();
      s.h2.close(() => resolve());
      setTimeout(resolve, 2_000).unref();
    });
    s.dead = true;
    const timer = setTimeout(() => s.stop.abort(), 3_000);
    s.h2.destroy();
    s.endInput();
    await s.exited.catch(() => undefined);
    clearTimeout(timer);
    await s.rc?.dispose();
  }

  /** Test hook: the running rclone's session, if any. */
  get live(): boolean {
    return !!this.session && !this.session.dead;
  }
}

/** How the HTTP/2 session reaches rclone's stdin and stdout. */
interface ChildWire {
  /** The session's end. */
  ours: Duplex;
  /** What the runner gives rclone as stdin and stdout. */
  run: Pick<RunOptions, "socket" | "stdin" | "stdout">;
  endInput: () => void;
  /** rclone has exited: nothing more will come from it. */
  exited: () => void;
}

/**
 * A Unix socket pair where the platform has one (util/socket-link.ts): Node's HTTP/2 then reads and writes it
 * natively. Measured on a 1 GiB restore over sftp on loopback (docs/performance.md, 2026-12-07; means of 4
 * alternating rounds): ~1 s less CPU and ~0.5 s less time than through rclone's two pipes, where every chunk went
 * through JavaScript streams (a PassThrough each way and a JS stream socket) on the main thread. The pipes stay as
 * the fallback (Windows, no writable temporary folder).
 */
async function childWire(): Promise<ChildWire> {
  const link = await socketLink().catch(() => undefined);
  if (link) {
    return { ours: link.ours, run: { socket: link.theirs }, endInput: () => link.ours.end(), exited: () => link.ours.destroy() };
  }
  const toChild = new PassThrough();
  const fromChild = new PassThrough();
  return {
    ours: Duplex.from({ readable: fromChild, writable: toChild }),
    run: { stdin: toChild, stdout: { pipe: fromChild } },
    endInput: () => toChild.end(),
    exited: () => fromChild.end(),
  };
}

/** Writes in pieces of at most 256 KiB: one big write makes Node's HTTP/2 layer crawl (~10× slower). */
const WRITE_PIECE = 256 * 1024;

/** Buffers of one file body at most: each is read into again once the stream is done with it. */
const FILE_BODY_BUFFERS = 4;

/**
 * Streams a file as the body, a piece at a time, waiting for the stream to drain. The pieces are read into a few
 * buffers taken back as the stream is done with each (its write callback): a fresh buffer per piece left a 16 MiB
 * pack's worth of garbage outside V8's heap for each upload, and at a backup's end, where nothing is read any more to
 * pace collections by, two uploads' worth stood in the peak memory (first 257 MB backup over sftp: ~32 MiB of
 * ArrayBuffers in its last second, peak RSS up to 150–155 MiB).
 */
export async function writeFileBody(stream: Pick<ClientHttp2Stream, "write" | "end" | "destroyed" | "once" | "off" | "on">, body: FileBody): Promise<void> {
  const handle = await open(body.file, "r");
  const free: Buffer[] = [];
  let made = 0;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.once("close", wakeUp);
  try {
    for (let at = 0; at < body.size && !stream.destroyed; ) {
      let buffer = free.pop();
      if (!buffer && made < FILE_BODY_BUFFERS) {
        buffer = Buffer.allocUnsafe(WRITE_PIECE);
        made++;
      }
      if (!buffer) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const { bytesRead } = await handle.read(buffer, 0, Math.min(WRITE_PIECE, body.size - at), at);
      if (bytesRead === 0) throw new Error(`${body.file} is shorter than ${body.size} bytes`);
      at += bytesRead;
      const taken = buffer;
      const done = () => {
        free.push(taken);
        wakeUp();
      };
      if (!stream.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), done)) await drained(stream);
    }
  } finally {
    stream.off("close", wakeUp);
    await handle.close();
  }
  if (!stream.destroyed) stream.end();
}

function drained(stream: Pick<ClientHttp2Stream, "on" | "off">): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

async function writeBody(stream: ClientHttp2Stream, whole: readonly Uint8Array[]): Promise<void> {
  const parts = whole.flatMap((p) => (p.length <= WRITE_PIECE ? [p] : Array.from({ length: Math.ceil(p.length / WRITE_PIECE) }, (_, i) => p.subarray(i * WRITE_PIECE, (i + 1) * WRITE_PIECE))));
  for (const part of parts) {
    if (stream.destroyed) return;
    if (!stream.write(part)) await drained(stream);
  }
  if (!stream.destroyed) stream.end();
}

