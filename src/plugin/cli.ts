// `openclaw workspace-sync …`: the standalone command tree (src/cli/program.ts) mounted under the host CLI, with
// the host's agent workspace. The tree is imported only when the host actually builds its CLI.
import type { Command } from "commander";
import type { HostConfigWriter } from "../setup/openclaw-file.js";
import type { CliContext, HostRuntime } from "./host-api.js";

export const CLI_COMMAND = "workspace-sync";
export const CLI_DESCRIPTOR = {
  name: CLI_COMMAND,
  description: "Sync the agent workspace with cloud storage (rclone) and manage encrypted backups",
  hasSubcommands: true,
} as const;

interface Flags {
  config?: string;
  stateDir?: string;
  workspace?: string;
  agent?: string;
  verbose?: boolean;
  quiet?: boolean;
}

/**
 * Makes every (nested) subcommand's action map errors to the product's exit codes (1 failed, 2 usage/config,
 * 3 busy) and print one clean line, the way the standalone bin does, instead of the host's generic handler.
 * Uses commander's documented createCommand() override point.
 */
export function withExitCodes(cmd: Command, exitCodeFor: (err: unknown) => number): Command {
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
          process.stderr.write(`workspace-sync: ${(err as Error).message}\n`);
          process.exitCode = exitCodeFor(err);
        }
      });
    return withExitCodes(sub, exitCodeFor);
  };
  return cmd;
}

/**
 * `setup` writes openclaw.json through the host's config API when the host offers one (so the gateway sees the
 * change the way it sees its own edits); undefined otherwise, and setup writes the file itself. `api.runtime` is
 * read only here, when setup actually writes: reading it while the host only collects CLI metadata throws.
 */
export function hostConfigWriter(runtime: (() => HostRuntime) | undefined): HostConfigWriter | undefined {
  let config: HostRuntime["config"];
  try {
    config = runtime?.().config;
  } catch {
    return undefined;
  }
  const mutateConfigFile = config?.mutateConfigFile;
  if (typeof mutateConfigFile !== "function") return undefined;
  return async (mutate) => {
    await mutateConfigFile.call(config, { afterWrite: { mode: "auto" }, mutate: (draft) => mutate(draft as Record<string, unknown>) });
  };
}

export async function registerCliCommands({ program, workspaceDir }: CliContext, runtime?: () => HostRuntime): Promise<void> {
  const [{ addCommands }, { loadContext }, { stderrLogger }, { exitCodeFor }] = await Promise.all([
    import("../cli/program.js"),
    import("../app/context.js"),
    import("../util/logger.js"),
    import("../cli/exit-codes.js"),
  ]);
  const root = program
    .command(CLI_COMMAND)
    .description(CLI_DESCRIPTOR.description)
    .option("--config <file>", "openclaw.json to read (default: the host's: $OPENCLAW_CONFIG_PATH, $OPENCLAW_STATE_DIR/openclaw.json)")
    .option("--state-dir <dir>", "OpenClaw state dir (default: $OPENCLAW_STATE_DIR or ~/.openclaw)")
    .option("--workspace <dir>", "agent workspace (default: the default agent's workspace as the host resolves it)")
    .option("--agent <id>", "use this agent's workspace")
    .option("-v, --verbose", "more detail on stderr")
    .option("-q, --quiet", "only warnings and errors on stderr");
  withExitCodes(root, exitCodeFor);
  addCommands(root, {
    env: process.env,
    hostConfigWriter: () => hostConfigWriter(runtime),
    contextOverride: (opts) => {
      const flags = opts as Flags;
      const log = stderrLogger({ verbose: flags.verbose, quiet: flags.quiet });
      // The host's resolved workspace is what the agent really uses; --workspace / --agent still win.
      const workspace = flags.workspace ?? (flags.agent ? undefined : workspaceDir);
      return loadContext({ config: flags.config, stateDir: flags.stateDir, workspace, agent: flags.agent }, process.env, log);
    },
  });
}
