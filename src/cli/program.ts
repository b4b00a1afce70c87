// Builds commander commands from the command table (cli/spec.ts) for either surface: the standalone bin's program,
// or the `workspace-sync` command the plugin mounts under the host's `openclaw`. Actions load their code on use.
import { Command, Option } from "commander";
import { type AppContext, loadContext } from "../app/context.js";
import { stderrLogger } from "../util/logger.js";
import { helpHint } from "./failure.js";
import { createOutput, type GlobalOptions, type Invocation, type ProgramDeps } from "./invocation.js";
import { COMMANDS, type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from "./spec.js";
import { traceChildren } from "./trace.js";

export type { GlobalOptions, ProgramDeps } from "./invocation.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function toOption(o: OptionSpec): Option {
  const opt = new Option(o.flags, o.description);
  if (o.choices) opt.choices(o.choices);
  if (o.defaultValue !== undefined) opt.default(o.defaultValue);
  if (o.repeatable) opt.argParser(collect);
  if (o.hidden) opt.hideHelp();
  return opt;
}

export function addGlobalOptions(cmd: Command): Command {
  for (const o of GLOBAL_OPTIONS) cmd.addOption(toOption(o));
  return cmd;
}

/**
 * A usage error prints the error and one line pointing at the command's own --help, not the whole help. commander's
 * "(Did you mean now?)" suggestion joins the error line, so the hint stays the one line after it.
 */
function usageHints(cmd: Command): Command {
  cmd.showHelpAfterError(helpHint(cmd));
  cmd.configureOutput({ outputError: (text, write) => write(text.replace(/\n\(Did you mean ([^)\n]*)\)/, " (did you mean $1)")) });
  return cmd;
}

function contextLoader(deps: ProgramDeps, cmd: Command): { context: () => Promise<AppContext>; globals: GlobalOptions; log: ReturnType<typeof stderrLogger> } {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const log = stderrLogger({ verbose: globals.verbose, quiet: globals.quiet });
  const context = async (): Promise<AppContext> => {
    const ctx = deps.contextOverride
      ? await deps.contextOverride(globals, log)
      : await loadContext({ config: globals.config, stateDir: globals.stateDir, workspace: globals.workspace, agent: globals.agent }, deps.env, log);
    return deps.signal ? { ...ctx, signal: deps.signal } : ctx;
  };
  return { context, globals, log };
}

function mount(parent: Command, spec: CommandSpec, deps: ProgramDeps): Command {
  const cmd = usageHints(parent.command(spec.name).description(spec.description));
  for (const a of spec.arguments ?? []) cmd.argument(a.name, a.description, a.defaultValue);
  for (const o of spec.options ?? []) cmd.addOption(toOption(o));
  if (spec.helpAfter) cmd.addHelpText("after", spec.helpAfter);
  for (const sub of spec.subcommands ?? []) mount(cmd, sub, deps);
  const load = spec.load;
  if (load) {
    cmd.action(async (...params: unknown[]) => {
      const self = params.at(-1) as Command;
      const { context, globals, log } = contextLoader(deps, self);
      const opts = self.opts<Record<string, unknown>>();
      const inv: Invocation = {
        args: self.args,
        params: self.processedArgs,
        opts,
        globals,
        context,
        out: createOutput({ quiet: !!globals.quiet, json: opts.json === true }),
        log,
        command: self,
        deps,
      };
      try {
        await (await load())(inv);
      } catch (err) {
        if (!deps.onFailure) throw err;
        deps.onFailure(err, self);
      }
    });
  }
  return cmd;
}

/** Mounts every command of the table under `root`, which carries the global options. */
export function addCommands(root: Command, deps: ProgramDeps): Command {
  usageHints(root);
  // -v: every child process of the command (rclone above all) with its duration, for every command alike.
  let stopTrace: (() => void) | undefined;
  root.hook("preAction", (_root, action) => {
    const globals = action.optsWithGlobals<GlobalOptions>();
    if (globals.verbose) stopTrace = traceChildren(stderrLogger({ verbose: true }));
  });
  root.hook("postAction", () => {
    stopTrace?.();
    stopTrace = undefined;
  });
  for (const spec of COMMANDS) mount(root, spec, deps);
  return root;
}

export function buildProgram(deps: ProgramDeps): Command {
  const program = addGlobalOptions(
    new Command(deps.displayName).description("Sync an OpenClaw workspace with cloud storage through rclone, and back it up as encrypted snapshots."),
  ).exitOverride();
  return addCommands(program, deps);
}
