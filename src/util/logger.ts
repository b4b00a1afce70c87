// The logging surface engines use: the host logger in plugin mode, stderr lines in the CLI.
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface StderrLoggerOptions {
  verbose?: boolean;
  quiet?: boolean;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Prefix each line with the time (default: when the stream is not a terminal — cron mail, log files). */
  timestamps?: boolean;
  now?: () => Date;
}

/** "2026-03-10T02:00:00Z " when lines go to a log, "" on a terminal. */
export function linePrefix(o: Pick<StderrLoggerOptions, "stream" | "timestamps" | "now"> = {}): () => string {
  const stream = o.stream ?? process.stderr;
  const stamped = o.timestamps ?? !(stream as { isTTY?: boolean }).isTTY;
  const now = o.now ?? (() => new Date());
  return stamped ? () => `${now().toISOString().replace(/\.\d{3}Z$/, "Z")} ` : () => "";
}

export function stderrLogger(opts: StderrLoggerOptions = {}): Logger {
  const stream = opts.stream ?? process.stderr;
  const prefix = linePrefix(opts);
  const write = (level: string, msg: string) => stream.write(`${prefix()}[workspace-sync] ${level}${msg}\n`);
  return {
    debug: (m) => opts.verbose && write("debug: ", m),
    info: (m) => !opts.quiet && write("", m),
    warn: (m) => write("warning: ", m),
    error: (m) => write("error: ", m),
  };
}
