// What a command's code gets when it runs: its arguments and options, the global options, the resolved context
// (loaded on first use), and the output channel that applies -q and --json the same way for every command.
import type { Command } from "commander";
import type { AppContext, LocationOptions } from "../app/context.js";
import type { HostConfigWriter } from "../setup/openclaw-file.js";
import type { Logger } from "../util/logger.js";

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
}

export interface Output {
  readonly quiet: boolean;
  readonly json: boolean;
  /** The command's result: lines for people, or `json` as the document with --json. Nothing under -q without --json. */
  result(text: string | readonly string[], json?: unknown): void;
}

export interface Invocation {
  /** Positional arguments. */
  args: string[];
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
  return {
    quiet: o.quiet,
    json: o.json,
    result(text, json) {
      if (o.json && json !== undefined) write(JSON.stringify(json, null, 2));
      else if (!o.quiet) {
        const body = typeof text === "string" ? text : text.join("\n");
        if (body !== "") write(body);
      }
    },
  };
}
