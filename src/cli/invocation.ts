// What a command's code gets when it runs: its arguments and options, the global options, the resolved context
// (loaded on first use), and the output channel that applies -q and --json the same way for every command.
import type { Command } from "commander";
import type { AppContext, LocationOptions } from "../app/context.js";
import type { HostConfigWriter } from "../setup/openclaw-file.js";
import type { Logger } from "../util/logger.js";
import type { StreamingRun } from "./heap-tuning.js";

/** The global options (cli/spec.ts GLOBAL_OPTIONS), the same on both surfaces. */
export interface GlobalOptions extends LocationOptions {
  verbose?: boolean;
  quiet?: boolean;
}

export interface ProgramDeps {
  env: NodeJS.ProcessEnv;
  /** Plugin mode passes the host's locations; the standalone bin resolves its own. */
  contextOverride?: (opts: GlobalOptions, log: Logger) => Promise<AppContext>;
  /** Plugin mode: writes openclaw.json through the host's config API (undefined when the host has none). */
  hostConfigWriter?: () => HostConfigWriter | undefined;
  /** Interruption of this invocation (the standalone bin's SIGINT/SIGTERM): passed to every engine call. */
  signal?: AbortSignal;
  /** How the surface shows a failed command: the bin returns the exit code from main(), the plugin sets process.exitCode. */
  onFailure?: (err: unknown, cmd: Command) => void;
  /** "workspace-sync" or "openclaw workspace-sync": how hints name the command. */
  displayName: string;
  /**
   * The standalone bin only (its process runs one command and exits): tunes V8 for a command that streams a whole
   * snapshot (cli/heap-tuning.ts). The plugin's commands run in openclaw's own process and leave its V8 alone.
   */
  tuneForStreaming?: (run: StreamingRun) => void;
}

export interface Output {
  readonly quiet: boolean;
  readonly json: boolean;
  /** The command's result: lines for people, or `json` as the document with --json. Nothing under -q without --json. */
  result(text: string | readonly string[], json?: unknown): void;
  /** What the user asked to see (a listing, a preview): printed under -q too, as restic does; `json` with --json. */
  listing(text: string | readonly string[], json?: unknown): void;
  /** Lines written in batches (a listing can hold millions of entries), printed under -q too; flush at the end. */
  lines(): { line(text: string): void; flush(): void };
}

export interface Invocation {
  /** Positional arguments as typed. */
  args: string[];
  /** Positional arguments as declared: defaults applied, a variadic one as an array (commander's processedArgs). */
  params: unknown[];
  /** The command's own options (camelCase keys). */
  opts: Record<string, unknown>;
  globals: GlobalOptions;
  /** Loads config and locations (again on each call: setup reloads after writing the config). */
  context(): Promise<AppContext>;
  out: Output;
  log: Logger;
  command: Command;
  deps: ProgramDeps;
}

export type CommandRun = (inv: Invocation) => Promise<void>;

export function createOutput(o: { quiet: boolean; json: boolean; stream?: NodeJS.WritableStream }): Output {
  const stream = o.stream ?? process.stdout;
  // Machine output goes to stdout directly: with --json in argv the OpenClaw host sends console.log to stderr.
  const write = (text: string) => stream.write(text.endsWith("\n") ? text : `${text}\n`);
  const body = (text: string | readonly string[]) => (typeof text === "string" ? text : text.join("\n"));
  return {
    quiet: o.quiet,
    json: o.json,
    result(text, json) {
      if (o.json && json !== undefined) write(JSON.stringify(json, null, 2));
      else if (!o.quiet && body(text) !== "") write(body(text));
    },
    listing(text, json) {
      if (o.json && json !== undefined) write(JSON.stringify(json, null, 2));
      else if (body(text) !== "") write(body(text));
    },
    lines() {
      let buf: string[] = [];
      const flush = () => {
        if (buf.length) stream.write(`${buf.join("\n")}\n`);
        buf = [];
      };
      return {
        line(text) {
          buf.push(text);
          if (buf.length >= 512) flush();
        },
        flush,
      };
    },
  };
}
