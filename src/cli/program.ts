// The command tree, shared by the standalone bin and the OpenClaw plugin's CLI registration.
import { Command, Option } from "commander";
import { type AppContext, type LocationOptions, loadContext } from "../app/context.js";
import { type Logger, stderrLogger } from "../util/logger.js";
import type { HostConfigWriter } from "../setup/openclaw-file.js";
import { addSetupFlags, SECRET_VARS } from "../setup/flags.js";
import { addBackupCommands } from "./commands/backup.js";

// Each command's code (and the engines behind it) is loaded when that command runs: a cron-started `sync` should not
// pay for loading the setup wizard, OAuth and the backup engine (ESM loading is most of a fresh process's start-up).
const commands = {
  setup: () => import("./commands/setup.js"),
  authorize: () => import("./commands/authorize.js"),
  status: () => import("./commands/status.js"),
  sync: () => import("./commands/sync.js"),
  list: () => import("./commands/list.js"),
};

export interface ProgramDeps {
  env: NodeJS.ProcessEnv;
  /** Plugin mode passes the host's locations and logger; the standalone bin resolves its own. */
  contextOverride?: (opts: LocationOptions) => Promise<AppContext>;
  logger?: Logger;
  /** Plugin mode: writes openclaw.json through the host's config API (undefined when the host has none). */
  hostConfigWriter?: () => HostConfigWriter | undefined;
  /** Interruption of this invocation (the standalone bin's SIGINT/SIGTERM): passed to every engine call. */
  signal?: AbortSignal;
}

interface GlobalFlags extends LocationOptions {
  verbose?: boolean;
  quiet?: boolean;
}

export function addCommands(program: Command, deps: ProgramDeps): Command {
  const context = async (cmd: Command): Promise<AppContext> => {
    const g = cmd.optsWithGlobals<GlobalFlags>();
    const log = deps.logger ?? stderrLogger({ verbose: g.verbose, quiet: g.quiet });
    const ctx = deps.contextOverride
      ? await deps.contextOverride(g)
      : await loadContext({ config: g.config, stateDir: g.stateDir, workspace: g.workspace, agent: g.agent }, deps.env, log);
    return deps.signal ? { ...ctx, signal: deps.signal } : ctx;
  };

  const setup = program
    .command("setup")
    .description("guided first run: rclone, provider, mode, backups, sign-in, connectivity check, config, first sync and backup")
    .option("-y, --yes", "no questions: take every answer from the flags below (defaults for the rest)");
  addSetupFlags(setup)
    .addHelpText(
      "after",
      [
        "",
        "Secrets are never flags (every user can read a process's arguments). With --yes they come from these",
        "environment variables; the wizard stores what you type in <stateDir>/.env (0600) and writes ${NAME} into the config:",
        ...SECRET_VARS.map((v) => `  ${v.name.padEnd(56)} ${v.what}`),
        "",
        "Example: BACKUP_PASSPHRASE=... workspace-sync setup --yes --provider local --local-folder /mnt/nas/openclaw --mode mailbox",
      ].join("\n"),
    )
    .action(async (_flags, cmd: Command) =>
      (await commands.setup()).setupCommand(cmd, { context, ...(deps.hostConfigWriter ? { hostConfigWriter: deps.hostConfigWriter } : {}) }),
    );

  program
    .command("authorize")
    .description("OAuth sign-in for dropbox, gdrive or onedrive (rclone authorize), stored in the product's rclone.conf")
    .addOption(new Option("--provider <name>", "which provider (default: the configured OAuth provider)").choices(["dropbox", "gdrive", "onedrive"]))
    .option("--paste", "no browser here: paste the token `rclone authorize` printed on another computer (stdin when not a terminal)")
    .option("--no-browser", "do not open a browser; rclone prints the sign-in link (for an SSH tunnel to port 53682)")
    .option("--remote-name <name>", "the rclone section to store the token in (default: every configured remote of the provider)")
    .action(async (flags, cmd: Command) => (await commands.authorize()).authorizeCommand(await context(cmd), flags));

  program
    .command("status")
    .description("show configuration (secrets redacted), rclone, remote reachability, last and next runs")
    .option("--json", "machine-readable output on stdout")
    .action(async (flags: { json?: boolean }, cmd: Command) => (await commands.status()).statusCommand(await context(cmd), flags));

  program
    .command("sync")
    .description("run one cycle of the configured mode (mailbox, mirror or bisync)")
    .option("--dry-run", "show what would change, change nothing")
    .addOption(new Option("--direction <dir>", "one-off one-way run that still honours the mode's excluded folders").choices(["push", "pull"]))
    .option("--resync", "bisync only: establish the baseline (shows a preview and asks first)")
    .option("--force", "bisync only: go past rclone's \"all files changed\" safety stop for this run")
    .option("-y, --yes", "confirm destructive steps (pull, resync) without asking")
    .option("--max-delete <N|N%>", "let this one run delete up to N files (or N% of the destination's) instead of sync.maxDelete")
    .option("--json", "machine-readable report on stdout")
    .action(async (flags, cmd: Command) => (await commands.sync()).syncCommand(await context(cmd), { ...flags, quiet: cmd.optsWithGlobals<GlobalFlags>().quiet }));

  program
    .command("list")
    .description("list files on the remote under remotePath")
    .argument("[path]", "sub-folder of the remote folder")
    .option("-R, --recursive", "list the whole tree")
    .option("--json", "machine-readable output on stdout")
    .action(async (sub: string | undefined, flags, cmd: Command) => (await commands.list()).listCommand(await context(cmd), sub, flags));

  addBackupCommands(program, context);

  return program;
}

export function buildProgram(deps: ProgramDeps): Command {
  const program = new Command("workspace-sync")
    .description("Sync an OpenClaw workspace with cloud storage through rclone, and back it up as encrypted snapshots.")
    .option("--config <file>", "openclaw.json to read (default: $OPENCLAW_CONFIG_PATH, $OPENCLAW_STATE_DIR/openclaw.json, ~/.openclaw/openclaw.json)")
    .option("--state-dir <dir>", "OpenClaw state dir (default: $OPENCLAW_STATE_DIR or ~/.openclaw)")
    .option("--workspace <dir>", "agent workspace (default: $OPENCLAW_WORKSPACE_DIR, agents.defaults.workspace, <stateDir>/workspace)")
    .option("--agent <id>", "use this agent's workspace")
    .option("-v, --verbose", "more detail on stderr")
    .option("-q, --quiet", "only warnings and errors on stderr")
    .showHelpAfterError()
    .exitOverride();
  return addCommands(program, deps);
}
