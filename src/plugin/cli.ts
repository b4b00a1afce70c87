// `openclaw workspace-sync …`: the command table (src/cli/spec.ts) mounted under the host CLI with the same global
// options as the standalone bin, and the host's agent workspace. The tree is imported only when the host actually
// builds its CLI; the descriptor below is all the host needs for `openclaw --help`.
import type { Command } from "commander";
import type { GlobalOptions } from "../cli/invocation.js";
import type { HostConfigWriter } from "../setup/openclaw-file.js";
import type { CliContext, HostRuntime } from "./host-api.js";

export const CLI_COMMAND = "workspace-sync";
export const CLI_DESCRIPTOR = {
  name: CLI_COMMAND,
  description: "Sync the agent workspace with cloud storage (rclone) and manage encrypted backups",
  hasSubcommands: true,
} as const;

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
  const [{ addCommands, addGlobalOptions }, { loadContext }, { reportFailure }, { CommanderError }] = await Promise.all([
    import("../cli/program.js"),
    import("../app/context.js"),
    import("../cli/failure.js"),
    import("commander"),
  ]);
  const onFailure = (err: unknown, cmd: Command) => {
    process.exitCode = reportFailure(err, { verbose: cmd.optsWithGlobals<GlobalOptions>().verbose, cmd });
  };
  const root = addGlobalOptions(program.command(CLI_COMMAND).description(CLI_DESCRIPTOR.description));
  // The host parses its own options positionally; ours are recognised after our subcommands too
  // (`openclaw workspace-sync sync -q`), as in the standalone bin.
  root.enablePositionalOptions(false);
  // A parse error of ours (unknown option, bad choice) is a usage error: exit 2, as the standalone bin does.
  root.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  });
  addCommands(root, {
    env: process.env,
    displayName: `${program.name()} ${CLI_COMMAND}`,
    onFailure,
    hostConfigWriter: () => hostConfigWriter(runtime),
    contextOverride: (flags, log) => {
      // The host's resolved workspace is what the agent really uses; --workspace / --agent still win.
      const workspace = flags.workspace ?? (flags.agent ? undefined : workspaceDir);
      return loadContext({ config: flags.config, stateDir: flags.stateDir, workspace, agent: flags.agent }, process.env, log);
    },
  });
}
