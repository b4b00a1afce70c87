// `workspace-sync backup now|list|status|verify|restore|prune`: thin wrappers that build the BackupJob, call the
// backup engine and print its report (src/report/backup.ts) or --json on stdout, with byte progress on a TTY.
import type { Command } from "commander";
import type { AppContext } from "../../app/context.js";
import type { BackupJobOptions } from "../../app/backup-job.js";
import type { Progress } from "../../backup/index.js";
import {
  describeBackup,
  formatDiff,
  formatExport,
  formatFind,
  formatList,
  formatLsNode,
  formatPrune,
  formatRestore,
  formatStatus,
  formatVerify,
  lsNodeJson,
  lsSnapshotJson,
  wholeReadNote,
} from "../../report/backup.js";
import { OperationError } from "../../util/errors.js";
import { statsReporter } from "../progress.js";

type ContextOf = (cmd: Command) => Promise<AppContext>;

/** The backup engine is loaded only when a backup command runs (a sync or status does not need it). */
const engine = () => import("../../backup/index.js");
const jobs = () => import("../../app/backup-job.js");

/** Snapshots: an ID prefix (8 hex digits are shown), "latest" or the full name. */
const SNAPSHOT_HELP = 'snapshot: a unique ID prefix (as `backup list` shows), "latest" (this install\'s newest) or the full name';

/** The job for a command: config, rclone, the folder, this install's host and agent (--agent). */
async function backupJob(context: ContextOf, cmd: Command, write = false) {
  const ctx = await context(cmd);
  const agent = cmd.optsWithGlobals<{ agent?: string }>().agent;
  const opts: BackupJobOptions = { ...(agent ? { agent } : {}), ...(write ? { write } : {}) };
  return (await jobs()).buildBackupJob(ctx, opts);
}

const REFUSED_LISTED = 50;

function refusedError(refused: { path: string; reason: string }[], dryRun: boolean): OperationError {
  const shown = refused.slice(0, REFUSED_LISTED).map((x) => `  ${JSON.stringify(x.path)}: ${x.reason}`);
  const more = refused.length > REFUSED_LISTED ? [`  … and ${refused.length - REFUSED_LISTED} more (--json lists all)`] : [];
  return new OperationError(
    [`${refused.length} entr${refused.length === 1 ? "y" : "ies"} of the snapshot ${dryRun ? "would be" : "were"} refused (unsafe: outside the target, through a symlink, or a device):`, ...shown, ...more].join("\n"),
  );
}

/** Paths a human dry run lists before it says the list is cut (--json lists all). */
const DRY_RUN_LISTED = 1000;

const LABELS: Record<Progress["phase"], string> = { backup: "backing up", verify: "verifying", restore: "restoring", export: "exporting" };

/** Renders engine progress with the same live line (TTY) / occasional log line as sync. */
function progressView(phase: Progress["phase"]) {
  const view = statsReporter(LABELS[phase]);
  return {
    onProgress: (p: Progress) =>
      view.onStats({
        bytes: p.bytes,
        totalBytes: p.totalBytes,
        transfers: p.files,
        totalTransfers: p.totalFiles,
        speed: p.speed,
        eta: p.eta,
        checks: 0,
        deletes: 0,
        renames: 0,
        errors: 0,
        elapsedTime: p.elapsedSeconds,
      }),
    done: view.done,
  };
}

/** Runs with a progress view, or with none under -q (then a backup also skips the pre-scan that only feeds the ETA). */
async function withProgress<T>(phase: Progress["phase"], cmd: Command, run: (onProgress: ((p: Progress) => void) | undefined) => Promise<T>): Promise<T> {
  if (cmd.optsWithGlobals<{ quiet?: boolean }>().quiet) return run(undefined);
  const view = progressView(phase);
  try {
    return await run(view.onProgress);
  } finally {
    view.done();
  }
}

const out = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
/** The report of a command that does something (now, verify, restore, export, prune): nothing under -q, as restic. */
const report = (cmd: Command, text: string) => {
  if (!cmd.optsWithGlobals<{ quiet?: boolean }>().quiet) out(text);
};
const note = (cmd: Command, text: string | undefined) => {
  if (text && !cmd.optsWithGlobals<{ quiet?: boolean }>().quiet) process.stderr.write(`${text}\n`);
};

/** Lines written in batches (a listing can hold millions of entries), flushed at the end. */
function lineWriter(): { line: (text: string) => void; flush: () => void } {
  let buf: string[] = [];
  const flush = () => {
    if (buf.length) process.stdout.write(`${buf.join("\n")}\n`);
    buf = [];
  };
  return {
    line: (text) => {
      buf.push(text);
      if (buf.length >= 512) flush();
    },
    flush,
  };
}
const json = (value: unknown) => out(JSON.stringify(value, null, 2));

export function addBackupCommands(program: Command, context: ContextOf): Command {
  const backup = program.command("backup").description("encrypted streaming snapshots of the agent system (now, list, status, ls, find, diff, verify, restore, export, prune)");

  backup
    .command("now")
    .description("take a snapshot now (never skipped as unchanged)")
    .option("--json", "machine-readable report on stdout")
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const job = await backupJob(context, cmd, true);
      const o = await withProgress("backup", cmd, async (onProgress) => (await engine()).runBackup(job, { trigger: "cli", force: true, onProgress }));
      if (flags.json) json(o);
      else report(cmd, describeBackup(o).join("\n"));
    });

  backup
    .command("list")
    .description("list complete snapshots with their short IDs: this install's group (host + included paths) unless --all, --host or --agent")
    .option("--all", "every group in the folder (other hosts, agents, included paths)")
    .option("--host <name>", "snapshots taken on this host (any group)")
    .option("--json", "machine-readable output on stdout (id and short_id as restic names them)")
    .addHelpText("after", "\nThe global --agent <id> lists that agent's snapshots (any group): workspace-sync backup list --agent main")
    .action(async (flags: { json?: boolean; all?: boolean; host?: string }, cmd: Command) => {
      const agent = cmd.optsWithGlobals<{ agent?: string }>().agent;
      const job = await backupJob(context, cmd);
      const l = await (await engine()).listSnapshots(job, { all: !!flags.all, ...(flags.host !== undefined ? { host: flags.host } : {}), ...(agent !== undefined ? { agent } : {}) });
      if (flags.json) json(l);
      else out(formatList(l).join("\n"));
    });

  backup
    .command("status")
    .description("backup settings and the last runs (as recorded by the CLI and the plugin service)")
    .option("--json", "machine-readable output on stdout")
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const agent = cmd.optsWithGlobals<{ agent?: string }>().agent;
      const s = await (await engine()).backupStatus((await jobs()).buildBackupTarget(await context(cmd), agent ? { agent } : {}));
      if (flags.json) json(s);
      else out(formatStatus(s).join("\n"));
    });

  backup
    .command("verify")
    .description("check snapshots without writing files: archive snapshots are read back end to end; repository snapshots are checked like `restic check` (structure, or --read-data)")
    .option("--snapshot <id>", `${SNAPSHOT_HELP} (default: latest)`)
    .option("--all", "verify every snapshot of this install's group (and the older plugin's)")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--read-data", "repository snapshots: read the data back too (restic check --read-data); archive snapshots are always read back whole")
    .option("--subset <n%>", "with --read-data: check this share of the data, chosen at random (e.g. 10%); archive: that share of the snapshots")
    .option("--json", "machine-readable output on stdout")
    .action(async (flags: { snapshot?: string; all?: boolean; readData?: boolean; subset?: string; identity?: string; json?: boolean }, cmd: Command) => {
      const job = await backupJob(context, cmd);
      const e = await engine();
      const subset = flags.subset !== undefined ? e.parseSubset(flags.subset) : undefined;
      const results = await withProgress("verify", cmd, async (onProgress) => e.verifySnapshots(job, { ...flags, subset, onProgress }));
      if (flags.json) json(results);
      else report(cmd, formatVerify(results).join("\n"));
      const failed = results.filter((r) => !r.ok);
      if (failed.length) throw new OperationError(`${failed.length} snapshot(s) failed verification: ${failed.map((f) => `${f.snapshot}: ${f.error}`).join("; ")}`);
    });

  backup
    .command("ls")
    .description("list a snapshot's files like `restic ls` (a repository snapshot answers from its trees, without downloading file data)")
    .argument("[snapshot]", `${SNAPSHOT_HELP}`, "latest")
    .argument("[path...]", "only this path and, for a folder, its direct entries (e.g. workspace/memory)")
    .option("-l, --long", "long listing: mode, size, modification time, path (and a symlink's target)")
    .option("--recursive", "with a path: everything below it, not only its direct entries")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--json", "one JSON object per line: the snapshot (struct_type \"snapshot\"), then each entry (struct_type \"node\"), as `restic ls --json`")
    .addHelpText("after", "\nExamples:\n  workspace-sync backup ls latest\n  workspace-sync backup ls 3f2a9c1b workspace/memory -l")
    .action(async (snapshot: string, paths: string[], flags: { long?: boolean; recursive?: boolean; identity?: string; json?: boolean }, cmd: Command) => {
      const job = await backupJob(context, cmd);
      const w = lineWriter();
      try {
        const r = await (await engine()).lsSnapshot(
          job,
          { snapshot, paths, recursive: !!flags.recursive, ...(flags.identity ? { identity: flags.identity } : {}) },
          (n) => w.line(flags.json ? JSON.stringify(lsNodeJson(n)) : formatLsNode(n, !!flags.long)),
          (start) => {
            if (flags.json) w.line(JSON.stringify(lsSnapshotJson(start)));
            if (start.read_whole_snapshot) note(cmd, wholeReadNote(1, "listing"));
          },
        );
        void r;
      } finally {
        w.flush();
      }
    });

  backup
    .command("find")
    .description("find files by name or path in this install's snapshots (all groups with --all), like `restic find`")
    .argument("<pattern...>", "glob on entry names (e.g. '*.sqlite'), or on whole snapshot paths when it holds a / (e.g. 'workspace/**/notes*')")
    .option("--all", "search the snapshots of every group in the folder")
    .option("--host <name>", "search the snapshots taken on this host")
    .option("--snapshot <id...>", `only these snapshots (${SNAPSHOT_HELP})`)
    .option("-i, --ignore-case", "match without regard to case")
    .option("-l, --long", "long listing: mode, size, modification time, path")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--json", "machine-readable output on stdout")
    .action(async (patterns: string[], flags: { all?: boolean; host?: string; snapshot?: string[]; ignoreCase?: boolean; long?: boolean; identity?: string; json?: boolean }, cmd: Command) => {
      const agent = cmd.optsWithGlobals<{ agent?: string }>().agent;
      const job = await backupJob(context, cmd);
      const r = await (await engine()).findInSnapshots(job, {
        patterns,
        all: !!flags.all,
        ignoreCase: !!flags.ignoreCase,
        ...(flags.host !== undefined ? { host: flags.host } : {}),
        ...(agent !== undefined ? { agent } : {}),
        ...(flags.snapshot ? { snapshots: flags.snapshot } : {}),
        ...(flags.identity ? { identity: flags.identity } : {}),
      });
      note(cmd, wholeReadNote(r.read_whole, "the search"));
      if (flags.json) json(r);
      else out(formatFind(r, !!flags.long).join("\n"));
    });

  backup
    .command("diff")
    .description("what changed between two snapshots, like `restic diff` (repository snapshots are compared from their trees, without downloading file data)")
    .argument("<a>", `the older snapshot (${SNAPSHOT_HELP})`)
    .argument("<b>", "the newer snapshot")
    .option("--metadata", "also list entries whose mode or modification time alone changed (U)")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--json", "machine-readable output on stdout")
    .addHelpText("after", "\nLines: + added, - removed, M content (or symlink target) modified, T type changed, U mode/time only (--metadata).")
    .action(async (a: string, b: string, flags: { metadata?: boolean; identity?: string; json?: boolean }, cmd: Command) => {
      const job = await backupJob(context, cmd);
      const r = await (await engine()).diffSnapshots(job, { a, b, metadata: !!flags.metadata, ...(flags.identity ? { identity: flags.identity } : {}) });
      if (r.compared_by === "content") note(cmd, wholeReadNote(2, "the comparison"));
      if (flags.json) json(r);
      else out(formatDiff(r).join("\n"));
    });

  backup
    .command("export")
    .description("write one snapshot as a single portable file (tar → zstd → age, encrypted with the configured passphrase or recipients) for cold storage")
    .option("--snapshot <id>", SNAPSHOT_HELP, "latest")
    .option("--to <path>", "a file or folder here, or an rclone remote:path (default: a new file in the current folder); an existing file is refused without --force")
    .option("--force", "replace an existing file (only once the new export is complete)")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--json", "machine-readable report on stdout")
    .addHelpText("after", "\nThe file opens with the standard tools: age -d FILE | zstd -dc | tar -x")
    .action(async (flags: { snapshot?: string; to?: string; force?: boolean; identity?: string; json?: boolean }, cmd: Command) => {
      const job = await backupJob(context, cmd);
      const r = await withProgress("export", cmd, async (onProgress) => (await engine()).exportSnapshot(job, { ...flags, ...(onProgress ? { onProgress } : {}) }));
      if (flags.json) json(r);
      else report(cmd, formatExport(r).join("\n"));
    });

  backup
    .command("restore")
    .description("restore a snapshot into a fresh folder (default: a staging folder under the state dir; never the live workspace)")
    .option("--snapshot <id>", SNAPSHOT_HELP, "latest")
    .option("--to <dir>", "restore into this folder (must be empty unless --force)")
    .option("--path <glob...>", "restore only snapshot paths matching these globs (e.g. workspace/memory); each must match something (else exit 2)")
    .option("--dry-run", "list every path that would be restored (the text lists the first 1000; --json all of them), write nothing")
    .option("--force", "restore into a non-empty folder, replacing files of the same name")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--json", "machine-readable report on stdout")
    .action(async (flags: { snapshot?: string; to?: string; path?: string[]; dryRun?: boolean; force?: boolean; identity?: string; json?: boolean }, cmd: Command) => {
      const job = await backupJob(context, cmd);
      const listLimit = flags.json ? undefined : DRY_RUN_LISTED;
      const r = await withProgress("restore", cmd, async (onProgress) =>
        (await engine()).restoreSnapshot(job, { ...flags, paths: flags.path, ...(listLimit ? { listLimit } : {}), onProgress }),
      );
      if (flags.json) json(r);
      else if (r.dryRun) out(formatRestore(r).join("\n")); // a preview is its own output, -q or not
      else report(cmd, formatRestore(r).join("\n"));
      // The safe entries are in place (or listed), but the snapshot held entries that cannot be restored safely.
      if (r.refused.length) throw refusedError(r.refused, !!r.dryRun);
    });

  backup
    .command("prune")
    .description("apply the retention policy to this install's group now and remove its leftovers of interrupted runs (never the newest snapshot)")
    .option("--dry-run", "show what would be removed")
    .option("--include-legacy", "let retention remove the older plugin's legacy snapshots too")
    .option("--json", "machine-readable report on stdout")
    .action(async (flags: { dryRun?: boolean; includeLegacy?: boolean; json?: boolean }, cmd: Command) => {
      const p = await (await engine()).pruneRepository(await backupJob(context, cmd), flags);
      if (flags.json) json(p);
      else if (flags.dryRun) out(formatPrune(p).join("\n"));
      else report(cmd, formatPrune(p).join("\n"));
    });

  return backup;
}
