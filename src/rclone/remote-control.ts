// rclone's remote control (rc) inside a long-running rclone, so that a short operation (a move) runs in that process,
// on its open connection to the remote, instead of in an rclone started for it: a start, a config read and a new
// connection (an SSH handshake on sftp, a token on an OAuth cloud) for each call.
//
// rclone 1.60 serves rc on TCP only, so the endpoint is guarded:
// - it listens on 127.0.0.1 and a port the kernel picks; rclone names it in a NOTICE line of its log;
// - every call needs a password that only this process knows: random per child, never in argv or the environment;
//   rclone reads its SHA-1 from an htpasswd file (0600), removed when the child is done. Without the password rc
//   answers 401 to everything, `config/dump` included.
// A caller falls back to its old way whenever rc is not there (the line never came, the port refuses, the file went
// away: rclone then drops the request).
import { randomBytes, createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RcloneLogEntry } from "./log-parse.js";

/** node:http only when rc is used. */
const http = () => process.getBuiltinModule("node:http");

/** rc answered with an error (the operation failed on the remote). */
export class RcCallError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** rc could not be reached or did not answer: use another way. */
export class RcUnavailableError extends Error {}

const USER = "openclaw";
const ANNOUNCED = /Serving remote control on (http:\/\/127\.0\.0\.1:\d+)\//;
/** rclone's own words when rc could not start; the child then exits at once. */
export const RC_START_FAILED = /remote control/i;

export class RemoteControl {
  private url: string | undefined;
  private broken = false;

  private constructor(
    private readonly file: string,
    private readonly password: string,
  ) {}

  /** Writes the password file into `dir` (made 0700 if missing). */
  static async prepare(dir: string): Promise<RemoteControl> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const password = randomBytes(32).toString("base64url");
    const file = path.join(dir, `rc-${randomBytes(8).toString("hex")}.htpasswd`);
    const digest = createHash("sha1").update(password).digest("base64");
    await writeFile(file, `${USER}:{SHA}${digest}\n`, { mode: 0o600, flag: "wx" });
    return new RemoteControl(file, password);
  }

  /**
   * The child's environment without rclone's RCLONE_RC_* settings: a user's RCLONE_RC_NO_AUTH or RCLONE_RC_SERVE
   * (meant for an rc of their own) would otherwise loosen this one.
   */
  static childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return Object.fromEntries(Object.entries(env).filter(([k]) => !/^RCLONE_RC_/i.test(k)));
  }

  /** The flags that make the child serve rc. */
  get args(): string[] {
    return ["--rc", "--rc-addr", "127.0.0.1:0", "--rc-htpasswd", this.file];
  }

  /** Feeds the child's log: picks up the address rclone announces. */
  see(entry: RcloneLogEntry): void {
    const m = ANNOUNCED.exec(entry.msg);
    if (m) this.url = m[1];
  }

  /** Where rc listens, once rclone has said so. */
  get address(): string | undefined {
    return this.url;
  }

  /** The address is known and rc has not failed yet. */
  get ready(): boolean {
    return this.url !== undefined && !this.broken;
  }

  /**
   * Calls an rc method. Throws RcCallError when rclone answers an error, RcUnavailableError when rc cannot be used
   * (then it is not tried again: the caller goes its old way).
   */
  async call(method: string, params: Record<string, unknown>, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<unknown> {
    if (!this.ready) throw new RcUnavailableError("rclone's remote control is not available");
    const body = Buffer.from(JSON.stringify(params));
    try {
      return await new Promise<unknown>((resolve, reject) => {
        const req = http().request(`${this.url}/${method}`, {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": body.length, authorization: `Basic ${Buffer.from(`${USER}:${this.password}`).toString("base64")}` },
          agent: false,
          timeout: opts.timeoutMs,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        req.on("timeout", () => req.destroy(new RcUnavailableError(`rclone's remote control did not answer ${method} within ${Math.round(opts.timeoutMs / 1000)} s`)));
        req.on("error", (err) => reject(err instanceof RcUnavailableError || opts.signal?.aborted ? err : new RcUnavailableError(`rclone's remote control could not be reached (${err.message})`)));
        req.on("response", (res) => {
          const parts: Buffer[] = [];
          res.on("data", (c: Buffer) => parts.push(c));
          res.on("error", (err) => reject(new RcUnavailableError(`rclone's remote control answer was cut off (${err.message})`)));
          res.on("end", () => {
            const text = Buffer.concat(parts).toString("utf8");
            let doc: unknown;
            try {
              doc = text ? JSON.parse(text) : {};
            } catch {
              doc = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status === 200 && doc !== undefined) return resolve(doc);
            // 401: not the rc this process set up. Errors of a call come as JSON (404 for a missing object, too).
            if (status === 401 || doc === undefined) return reject(new RcUnavailableError(`rclone's remote control answered HTTP ${status}`));
            const why = typeof (doc as { error?: unknown }).error === "string" ? (doc as { error: string }).error : `HTTP ${status}`;
            reject(new RcCallError(why.slice(0, 300), status));
          });
        });
        req.end(body);
      });
    } catch (err) {
      if (err instanceof RcUnavailableError) this.broken = true;
      throw err;
    }
  }

  /** Removes the password file (once the child is gone). */
  async dispose(): Promise<void> {
    this.broken = true;
    await rm(this.file, { force: true }).catch(() => {});
  }
}
