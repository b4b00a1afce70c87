// The logging surface engines use: the host logger in plugin mode, stderr lines in the CLI.
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function stderrLogger(opts: { verbose?: boolean; quiet?: boolean } = {}): Logger {
  const write = (level: string, msg: string) => process.stderr.write(`[workspace-sync] ${level}${msg}\n`);
  return {
    debug: (m) => opts.verbose && write("debug: ", m),
    info: (m) => !opts.quiet && write("", m),
    warn: (m) => write("warning: ", m),
    error: (m) => write("error: ", m),
  };
}
