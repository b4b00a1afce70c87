// Parses rclone's --use-json-log lines into log entries, stats and a short error summary.

export interface RcloneStats {
  bytes: number;
  totalBytes: number;
  transfers: number;
  totalTransfers: number;
  checks: number;
  deletes: number;
  renames: number;
  errors: number;
  speed: number;
  eta: number | null;
  elapsedTime: number;
}

export interface RcloneLogEntry {
  level: string;
  msg: string;
  object?: string;
  stats?: RcloneStats;
}

export function parseLogLine(line: string): RcloneLogEntry | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  if (trimmed.startsWith("{")) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const entry: RcloneLogEntry = {
        level: String(parsed.level ?? "info"),
        msg: String(parsed.msg ?? ""),
      };
      if (typeof parsed.object === "string") entry.object = parsed.object;
      if (parsed.stats && typeof parsed.stats === "object") entry.stats = parsed.stats as RcloneStats;
      return entry;
    } catch {
      // fall through: a non-JSON line (panic traces, early startup errors)
    }
  }
  // Plain rclone log line: "2026/11/24 18:58:41 ERROR : path: message"
  const plain = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (?:(DEBUG|INFO|NOTICE|ERROR|CRITICAL|EMERGENCY|ALERT|WARNING)\s*:\s*)?(.*)$/.exec(trimmed);
  if (plain) return { level: (plain[1] ?? "error").toLowerCase(), msg: plain[2]! };
  return { level: "error", msg: trimmed };
}

/** Turns known cryptic rclone failures into an explanation with a fix. */
export function explainError(msg: string): string | undefined {
  if (/LoadCustomCABundleError/.test(msg))
    return "the AWS_CA_BUNDLE environment variable points rclone's S3 backend at a CA bundle it cannot load; unset AWS_CA_BUNDLE for the gateway/CLI (or point it at a valid PEM file)";
  // HTTP status codes only as numbers of their own: a port ("127.0.0.1:42931") or a size must not read as one.
  if (/too_many_requests|rate.?limit|(?<![\d:.])429(?!\d)/i.test(msg))
    return "the cloud provider is rate-limiting requests; raise `interval`, add excludes, or wait before retrying";
  if (/didn't find section in config file/.test(msg))
    return "the rclone remote is not defined in the rclone config; check `remoteName`/`configPath` or add a provider block";
  if (/directory not found/i.test(msg))
    return "the remote folder does not exist; check `remotePath` (with a Dropbox app folder, remotePath should be \"\")";
  if (/modification time support is missing/i.test(msg))
    return "this rclone cannot bisync with a remote that does not keep modification times (e.g. some WebDAV servers); use mailbox or mirror mode, or a newer rclone (>= 1.66 can compare by size/checksum)";
  // rclone preallocates local files (fallocate) and says so before writing a byte.
  if (/no space left on device|file too big for remaining disk space|disk quota exceeded/i.test(msg))
    return "the local disk is full (no space left); free space and run again";
  if (/connection refused|no such host|i\/o timeout|network is unreachable/i.test(msg))
    return "the remote could not be reached; check the network and the endpoint";
  if (/token expired|invalid_grant|unauthorized|(?<![\d:.])40[13](?!\d)|AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch/i.test(msg))
    return "the remote refused the credentials; re-run `workspace-sync authorize` or check the keys";
  return undefined;
}
