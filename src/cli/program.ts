// Builds commander commands from the command table (cli/spec.ts) for either surface: the standalone bin's program,
// or the `workspace-sync` command the plugin mounts under the host's `openclaw`. Actions load their code on use.
import { Command, Option } from "commander";
import { type AppContext, loadContext } from "../app/context.js";
import { stderrLogger } from "../util/logger.js";
import { addBackupCommands } from "./commands/backup.js";
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

/** A usage error prints the error and one line pointing at the command's own --help, not the whole help. */
function usageHints(cmd: Command): Command {
  cmd.showHelpAfterError(helpHint(cmd));
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
  for (const a of spec.arguments ?? []) cmd.argument(a.name, a.description);
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

/**
 * The backup group still creates its own subcommands (src/cli/commands/backup.ts): their actions get the same
 * failure handling through commander's createCommand() override point until the group moves onto the table.
 */
function failuresHandled(cmd: Command, onFailure: (err: unknown, cmd: Command) => void): Command {
  const create = cmd.createCommand.bind(cmd);
  cmd.createCommand = (name?: string) => {
    const sub = create(name);
    const action = sub.action.bind(sub);
    // biome-ignore lint: commander's own action signature
    sub.action = (fn: (...args: any[]) => void | Promise<void>) =>
      action(async (...args: unknown[]) => {
        try {
          await fn(...args);
        } catch (err) {
          onFailure(err, sub);
        }
      });
    return failuresHandled(sub, onFailure);
  };
  return cmd;
}

/** Mounts every command of the table (and the backup group) under `root`, which carries the global options. */
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
  // The backup group still wires its own actions (src/cli/commands/backup.ts); it moves onto the table as a
  // CommandSpec with subcommands, like `schedule`.
  const createCommand = root.createCommand;
  if (deps.onFailure) failuresHandled(root, deps.onFailure);
  const backup = addBackupCommands(root, async (cmd: Command) => contextLoader(deps, cmd).context());
  root.createCommand = createCommand;
  usageHints(backup);
  for (const sub of backup.commands) usageHints(sub);
  return root;
}

export function buildProgram(deps: ProgramDeps): Command {
  const program = addGlobalOptions(
    new Command(deps.displayName).description("Sync an OpenClaw workspace with cloud storage through rclone, and back it up as encrypted snapshots."),
  ).exitOverride();
  return addCommands(program, deps);
}
