// The command tree as data: every command's name, description, arguments and options, and where its code is. Both
// ways in are built from this one table — the standalone bin (cli/program.ts) and `openclaw workspace-sync …`
// (plugin/cli.ts) — and a command's code (with the engines behind it) is imported only when that command runs:
// a cron-started `sync` does not load the setup wizard, OAuth or the backup engine.
//
// Adding a command: one entry here (metadata) + one module under commands/ exporting `run(inv)` (code).
// Command groups (`schedule install|remove|status`, `backup now|list|…`) are entries with `subcommands`.
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
  /** commander argument syntax: "<a>", "[path]", "[path...]"; `defaultValue` for an optional one. */
  arguments?: { name: string; description: string; defaultValue?: string }[];
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
const JSON_REPORT: OptionSpec = { flags: "--json", description: "machine-readable report on stdout" };
const IDENTITY_OPTION: OptionSpec = { flags: "--identity <file>", description: "age identity file for snapshots encrypted to recipients" };

/** Snapshots: an ID prefix (8 hex digits are shown), "latest" or the full name. */
const SNAPSHOT_HELP = 'snapshot: a unique ID prefix (as `backup list` shows), "latest" (this install\'s newest) or the full name';

const backupCommand = (name: keyof typeof import("./commands/backup.js")) => async () => (await import("./commands/backup.js"))[name];

const BACKUP: CommandSpec = {
  name: "backup",
  description: "encrypted streaming snapshots of the agent system (now, list, status, ls, find, diff, verify, restore, export, prune)",
  subcommands: [
    {
      name: "now",
      description: "take a snapshot now (never skipped as unchanged)",
      options: [JSON_REPORT],
      load: backupCommand("now"),
    },
    {
      name: "list",
      description: "list complete snapshots with their short IDs: this install's group (host + included paths) unless --all, --host or --agent",
      options: [
        { flags: "--all", description: "every group in the folder (other hosts, agents, included paths)" },
        { flags: "--host <name>", description: "snapshots taken on this host (any group)" },
        { flags: "--json", description: "machine-readable output on stdout (id and short_id as restic names them)" },
      ],
      helpAfter: "\nThe global --agent <id> lists that agent's snapshots (any group): workspace-sync backup list --agent main",
      load: backupCommand("list"),
    },
    {
      name: "status",
      description: "backup settings and the last runs (as recorded by the CLI and the plugin service)",
      options: [JSON_OPTION],
      load: backupCommand("status"),
    },
    {
      name: "verify",
      description:
        "check snapshots without writing files: archive snapshots are read back end to end; repository snapshots are checked like `restic check` (structure, or --read-data)",
      options: [
        { flags: "--snapshot <id>", description: `${SNAPSHOT_HELP} (default: latest)` },
        { flags: "--all", description: "verify every snapshot of this install's group (and the older plugin's)" },
        IDENTITY_OPTION,
        { flags: "--read-data", description: "repository snapshots: read the data back too (restic check --read-data); archive snapshots are always read back whole" },
        { flags: "--subset <n%>", description: "with --read-data: check this share of the data, chosen at random (e.g. 10%); archive: that share of the snapshots" },
        JSON_OPTION,
      ],
      load: backupCommand("verify"),
    },
    {
      name: "ls",
      description: "list a snapshot's files like `restic ls` (a repository snapshot answers from its trees, without downloading file data)",
      arguments: [
        { name: "[snapshot]", description: SNAPSHOT_HELP, defaultValue: "latest" },
        { name: "[path...]", description: "only this path and, for a folder, its direct entries (e.g. workspace/memory)" },
      ],
      options: [
        { flags: "-l, --long", description: "long listing: mode, size, modification time, path (and a symlink's target)" },
        { flags: "--recursive", description: "with a path: everything below it, not only its direct entries" },
        IDENTITY_OPTION,
        { flags: "--json", description: 'one JSON object per line: the snapshot (struct_type "snapshot"), then each entry (struct_type "node"), as `restic ls --json`' },
      ],
      helpAfter: "\nExamples:\n  workspace-sync backup ls latest\n  workspace-sync backup ls 3f2a9c1b workspace/memory -l",
      load: backupCommand("ls"),
    },
    {
      name: "find",
      description: "find files by name or path in this install's snapshots (all groups with --all), like `restic find`",
      arguments: [{ name: "<pattern...>", description: "glob on entry names (e.g. '*.sqlite'), or on whole snapshot paths when it holds a / (e.g. 'workspace/**/notes*')" }],
      options: [
        { flags: "--all", description: "search the snapshots of every group in the folder" },
        { flags: "--host <name>", description: "search the snapshots taken on this host" },
        { flags: "--snapshot <id...>", description: `only these snapshots (${SNAPSHOT_HELP})` },
        { flags: "-i, --ignore-case", description: "match without regard to case" },
        { flags: "-l, --long", description: "long listing: mode, size, modification time, path" },
        IDENTITY_OPTION,
        JSON_OPTION,
      ],
      load: backupCommand("find"),
    },
    {
      name: "diff",
      description: "what changed between two snapshots, like `restic diff` (repository snapshots are compared from their trees, without downloading file data)",
      arguments: [
        { name: "<a>", description: `the older snapshot (${SNAPSHOT_HELP})` },
        { name: "<b>", description: "the newer snapshot" },
      ],
      options: [{ flags: "--metadata", description: "also list entries whose mode or modification time alone changed (U)" }, IDENTITY_OPTION, JSON_OPTION],
      helpAfter: "\nLines: + added, - removed, M content (or symlink target) modified, T type changed, U mode/time only (--metadata).",
      load: backupCommand("diff"),
    },
    {
      name: "export",
      description: "write one snapshot as a single portable file (tar → zstd → age, encrypted with the configured passphrase or recipients) for cold storage",
      options: [
        { flags: "--snapshot <id>", description: SNAPSHOT_HELP, defaultValue: "latest" },
        { flags: "--to <path>", description: "a file or folder here, or an rclone remote:path (default: a new file in the current folder); an existing file is refused without --force" },
        { flags: "--force", description: "replace an existing file (only once the new export is complete)" },
        IDENTITY_OPTION,
        JSON_REPORT,
      ],
      helpAfter: "\nThe file opens with the standard tools: age -d FILE | zstd -dc | tar -x",
      load: backupCommand("exportSnapshot"),
    },
    {
      name: "restore",
      description: "restore a snapshot into a fresh folder (default: a staging folder under the state dir; never the live workspace)",
      options: [
        { flags: "--snapshot <id>", description: SNAPSHOT_HELP, defaultValue: "latest" },
        { flags: "--to <dir>", description: "restore into this folder (must be empty unless --force)" },
        { flags: "--path <glob...>", description: "restore only snapshot paths matching these globs (e.g. workspace/memory); each must match something (else exit 2)" },
        { flags: "--dry-run", description: "list every path that would be restored (the text lists the first 1000; --json all of them), write nothing" },
        { flags: "--force", description: "restore into a non-empty folder, replacing files of the same name" },
        IDENTITY_OPTION,
        JSON_REPORT,
      ],
      load: backupCommand("restore"),
    },
    {
      name: "prune",
      description: "apply the retention policy to this install's group now and remove its leftovers of interrupted runs (never the newest snapshot)",
      options: [
        { flags: "--dry-run", description: "show what would be removed" },
        { flags: "--include-legacy", description: "let retention remove the older plugin's legacy snapshots too" },
        JSON_REPORT,
      ],
      load: backupCommand("prune"),
    },
  ],
};

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
  BACKUP,
];
