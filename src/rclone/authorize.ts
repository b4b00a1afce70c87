// `rclone authorize <type>`: the OAuth browser sign-in, and reading the token out of what it prints (or of what a
// person pasted from running it on another machine).
//
// Own app credentials (Dropbox app key/secret, Google/Microsoft client id/secret) never go into rclone's argv:
// rclone 1.60+ reads every backend option from RCLONE_<BACKEND>_<OPTION> environment variables, and `rclone authorize`
// builds its temporary remote from the same config map (fs.ConfigMap: flags, then remote and backend environment
// variables), so RCLONE_DROPBOX_CLIENT_ID / RCLONE_DROPBOX_CLIENT_SECRET reach the OAuth step without
// `rclone authorize "dropbox" "<id>" "<secret>"` (argv, visible to every user) or the base64 config blob form (argv
// too, and it changes the output to a config blob).
import { OperationError } from "../util/errors.js";
import type { RcloneBinary } from "./binary.js";
import { runRclone, summarizeFailure } from "./runner.js";

export interface AuthorizedToken {
  /** The token JSON, compact (one line, as rclone.conf holds it). */
  token: string;
  /** Other options a config blob carried (e.g. drive's root_folder_id), when one was pasted. */
  extra: Record<string, string>;
}

const START = /Paste the following into your remote machine\s*--->/;
const END = /<---\s*End paste/;

function tokenFromJson(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const t = parsed as Record<string, unknown>;
  if (typeof t.access_token !== "string" && typeof t.refresh_token !== "string") return undefined;
  return JSON.stringify(parsed);
}

function fromBlob(text: string): AuthorizedToken | undefined {
  if (!/^[A-Za-z0-9+/_=-]+$/.test(text)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) return undefined;
  const blob = decoded as Record<string, unknown>;
  const token = typeof blob.token === "string" ? tokenFromJson(blob.token) : undefined;
  if (!token) return undefined;
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(blob)) if (k !== "token" && typeof v === "string" && /^[a-z0-9_]+$/.test(k)) extra[k] = v;
  return { token, extra };
}

/**
 * The token in rclone authorize's output or in a pasted text: the block between rclone's markers, the token JSON
 * itself (possibly spread over lines), or the base64 config blob newer rclone prints when given one.
 */
export function parseAuthorizeOutput(text: string): AuthorizedToken | undefined {
  let body = text;
  const start = START.exec(text);
  if (start) {
    const rest = text.slice(start.index + start[0].length);
    const end = END.exec(rest);
    body = end ? rest.slice(0, end.index) : rest;
  }
  const trimmed = body.trim();
  if (!trimmed) return undefined;
  const asJson = tokenFromJson(trimmed);
  if (asJson) return { token: asJson, extra: {} };
  // The JSON may sit among other lines (a pasted terminal excerpt).
  const brace = trimmed.indexOf("{");
  const close = trimmed.lastIndexOf("}");
  if (brace >= 0 && close > brace) {
    const inner = tokenFromJson(trimmed.slice(brace, close + 1));
    if (inner) return { token: inner, extra: {} };
  }
  for (const line of trimmed.split(/\s+/)) {
    const blob = fromBlob(line);
    if (blob) return blob;
  }
  return undefined;
}

/** `RCLONE_<BACKEND>_CLIENT_ID` / `_CLIENT_SECRET` for an own OAuth app (empty when rclone's own is used). */
export function clientEnv(rcloneType: string, client: { id?: string; secret?: string }): Record<string, string> {
  const prefix = `RCLONE_${rcloneType.toUpperCase()}_`;
  const out: Record<string, string> = {};
  if (client.id) out[`${prefix}CLIENT_ID`] = client.id;
  if (client.secret) out[`${prefix}CLIENT_SECRET`] = client.secret;
  return out;
}

/** Environment for `rclone authorize`: the caller's, without RCLONE_* settings that could redirect it. */
export function authorizeEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !k.toUpperCase().startsWith("RCLONE_")) env[k] = v;
  return env;
}

export interface AuthorizeRun {
  bin: RcloneBinary;
  rcloneType: string;
  client: { id?: string; secret?: string };
  env: NodeJS.ProcessEnv;
  /** Do not open a browser; rclone prints the link (e.g. over an SSH tunnel to port 53682). */
  noBrowser?: boolean;
  /** rclone's messages (the sign-in link among them). */
  onMessage: (message: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Runs the browser sign-in and returns the token, or throws with rclone's reason. */
export async function runAuthorize(run: AuthorizeRun): Promise<AuthorizedToken> {
  const args = ["authorize", run.rcloneType];
  if (run.noBrowser) args.push("--auth-no-open-browser");
  const result = await runRclone(run.bin, {
    args,
    // No config file: the temporary remote of `rclone authorize` must not pick up sections of any real one.
    configPath: process.platform === "win32" ? "NUL" : "/dev/null",
    env: authorizeEnv(run.env),
    // The client id/secret go to this child alone, past the filter that keeps configured secrets out of children.
    secretEnv: clientEnv(run.rcloneType, run.client),
    stdout: { capture: 1 << 20 },
    timeoutMs: run.timeoutMs ?? 15 * 60_000,
    ...(run.signal ? { signal: run.signal } : {}),
    onLog: (entry) => {
      if (entry.msg) run.onMessage(entry.msg.trim());
    },
  });
  if (result.code !== 0) throw new OperationError(summarizeFailure("authorize", result));
  const token = parseAuthorizeOutput(result.stdout);
  if (!token) throw new OperationError("rclone authorize finished without printing a token");
  return token;
}
