// The command tree as data: every command's name, description, arguments and options, and where its code is. Both
// ways in are built from this one table — the standalone bin (cli/program.ts) and `openclaw workspace-sync …`
// (plugin/cli.ts) — and a command's code (with the engines behind it) is imported only when that command runs:
// a cron-started `sync` does not load the setup wizard, OAuth or the backup engine.
//
// Adding a command: one entry here (metadata) + one module under commands/ exporting `run(inv)` (code).
// Command groups (`schedule install|remove|status`) are entries with `subcommands`; `backup` moves onto this table
// the same way (its actions are still wired by commands/backup.ts's addBackupCommands for now).
import { SECRET_VARS, SETUP_FLAGS } from "../setup/flags.js";
import type { CommandRun } from "./invocation.js";

export interface OptionSpec {
  /** commander flags: "--dry-run", "--direction <dir>", "-y, --yes". */
  flags: string;
  description: string;
  choices?: readonly string[];
  defaultValue?: string;
  /** Repeatable: every use adds to a list. */
  repeatable?: boolean;
  hidden?: boolean;
}

export interface CommandSpec {
  name: string;
  description: string;
  arguments?: { name: string; description: string }[];
  options?: OptionSpec[];
  /** Extra text after the option list in --help. */
  helpAfter?: string;
  /** The command's code, loaded when it runs; absent on a group that only holds subcommands. */
  load?: () => Promise<CommandRun>;
  subcommands?: CommandSpec[];
}

/** Options every command takes (before or after the command name), on both surfaces. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { flags: "--config <file>", description: "openclaw.json to read (default: $OPENCLAW_CONFIG_PATH, $OPENCLAW_STATE_DIR/openclaw.json, ~/.openclaw/openclaw.json)" },
  { flags: "--state-dir <dir>", description: "OpenClaw state dir (default: $OPENCLAW_STATE_DIR or ~/.openclaw)" },
  { flags: "--workspace <dir>", description: "agent workspace (default: $OPENCLAW_WORKSPACE_DIR, the default agent's workspace in openclaw.json, <stateDir>/workspace)" },
  { flags: "--agent <id>", description: "use this agent's workspace" },
  { flags: "-v, --verbose", description: "show what runs: every rclone command with its duration, and debug lines" },
  { flags: "-q, --quiet", description: "print nothing on success (errors still go to stderr; --json output is still printed)" },
];

/** The standalone bin's own: `workspace-sync --version` (the plugin's version is the host's `plugins list`). */
export const VERSION_OPTION: OptionSpec = { flags: "-V, --version", description: "print the version of workspace-sync, Node.js and rclone" };

const JSON_OPTION: OptionSpec = { flags: "--json", description: "machine-readable output on stdout" };

const setupOptions = (): OptionSpec[] =>
  SETUP_FLAGS.flatMap((f): OptionSpec[] => {
    if (f.kind === "bool") return [{ flags: `--${f.id}`, description: `${f.description} (or --no-${f.id})` }, { flags: `--no-${f.id}`, description: "", hidden: true }];
    if (f.kind === "list") return [{ flags: `--${f.id} <${f.arg}>`, description: f.description, repeatable: true }];
    return [{ flags: `--${f.id} <${f.arg}>`, description: f.description, ...(f.choices ? { choices: f.choices } : {}) }];
  });

export const COMMANDS: CommandSpec[] = [
  {
    name: "setup",
    description: "guided first run: rclone, provider, mode, backups, sign-in, connectivity check, config, first sync and backup",
    options: [{ flags: "-y, --yes", description: "no questions: take every answer from the flags below (defaults for the rest)" }, ...setupOptions()],
    helpAfter: [
      "",
      "Secrets are never flags (every user can read a process's arguments). With --yes they come from these",
      "environment variables; the wizard stores what you type in <stateDir>/.env (0600) and writes ${NAME} into the config:",
      ...SECRET_VARS.map((v) => `  ${v.name.padEnd(56)} ${v.what}`),
      "",
      "Example: BACKUP_PASSPHRASE=... workspace-sync setup --yes --provider local --local-folder /mnt/nas/openclaw --mode mailbox",
    ].join("\n"),
    load: async () => (await import("./commands/setup.js")).run,
  },
  {
    name: "authorize",
    description: "OAuth sign-in for dropbox, gdrive or onedrive (rclone authorize), stored in the product's rclone.conf",
    options: [
      { flags: "--provider <name>", description: "which provider (default: the configured OAuth provider)", choices: ["dropbox", "gdrive", "onedrive"] },
      { flags: "--paste", description: "no browser here: paste the token `rclone authorize` printed on another computer (stdin when not a terminal)" },
      { flags: "--no-browser", description: "do not open a browser; rclone prints the sign-in link (for an SSH tunnel to port 53682)" },
      { flags: "--remote-name <name>", description: "the rclone section to store the token in (default: every configured remote of the provider)" },
    ],
    load: async () => (await import("./commands/authorize.js")).run,
  },
  {
    name: "status",
    description: "configuration (secrets redacted), rclone, remote reachability, last and next runs; exit 1 when something needs attention",
    options: [JSON_OPTION],
    helpAfter: "\nExit codes: 0 all well, 1 something needs attention (listed; `needsAttention` in --json), 2 the config is invalid.",
    load: async () => (await import("./commands/status.js")).run,
  },
  {
    name: "sync",
    description: "run one cycle of the configured mode (mailbox, mirror or bisync)",
    options: [
      { flags: "--dry-run", description: "show what would change, change nothing" },
      { flags: "--direction <dir>", description: "one-off one-way run that still honours the mode's excluded folders", choices: ["push", "pull"] },
      { flags: "--resync", description: "bisync only: establish the baseline (shows a preview and asks first)" },
      { flags: "--force", description: 'bisync only: go past rclone\'s "all files changed" safety stop for this run' },
      { flags: "-y, --yes", description: "confirm destructive steps (pull, resync) without asking" },
      { flags: "--max-delete <N|N%>", description: "let this one run delete up to N files (or N% of the destination's) instead of sync.maxDelete" },
      { flags: "--json", description: "machine-readable report on stdout" },
    ],
    load: async () => (await import("./commands/sync.js")).run,
  },
  {
    name: "list",
    description: "list files on the remote under remotePath",
    arguments: [{ name: "[path]", description: "sub-folder of the remote folder" }],
    options: [{ flags: "-R, --recursive", description: "list the whole tree" }, JSON_OPTION],
    load: async () => (await import("./commands/list.js")).run,
  },
  {
    name: "schedule",
    description: "standalone scheduling without the gateway: a systemd user timer (or a crontab block) for the configured intervals",
    subcommands: [
      {
        name: "install",
        description: "install (or update) the timers for sync.interval and the backup interval; idempotent",
        options: [
          { flags: "--using <kind>", description: "systemd or cron (default: systemd when a systemd user session exists, else cron)", choices: ["systemd", "cron"] },
          { flags: "--print", description: "show the units or crontab lines that would be installed, change nothing" },
        ],
        load: async () => (await import("./commands/schedule.js")).install,
      },
      {
        name: "remove",
        description: "remove exactly what `schedule install` installed for this state dir (other crontab lines and units stay)",
        load: async () => (await import("./commands/schedule.js")).remove,
      },
      {
        name: "status",
        description: "what is installed, whether it is still in place, and when each job runs next",
        options: [JSON_OPTION],
        load: async () => (await import("./commands/schedule.js")).status,
      },
    ],
  },
];
