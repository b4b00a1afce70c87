// `workspace-sync backup now|list|status|verify|restore|prune`: thin wrappers that build the BackupJob, call the
// backup engine and print its report (src/report/backup.ts) or --json on stdout, with byte progress on a TTY.
import type { Command } from "commander";
import type { AppContext } from "../../app/context.js";
import type { BackupJobOptions } from "../../app/backup-job.js";
import type { Progress } from "../../backup/index.js";
import { describeBackup, formatList, formatPrune, formatRestore, formatStatus, formatVerify } from "../../report/backup.js";
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

const LABELS: Record<Progress["phase"], string> = { backup: "backing up", verify: "verifying", restore: "restoring" };

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
const json = (value: unknown) => out(JSON.stringify(value, null, 2));

export function addBackupCommands(program: Command, context: ContextOf): Command {
  const backup = program.command("backup").description("encrypted streaming snapshots of the agent system (now, list, status, verify, restore, prune)");

  backup
    .command("now")
    .description("take a snapshot now (never skipped as unchanged)")
    .option("--json", "machine-readable report on stdout")
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const job = await backupJob(context, cmd, true);
      const o = await withProgress("backup", cmd, async (onProgress) => (await engine()).runBackup(job, { trigger: "cli", force: true, onProgress }));
      if (flags.json) json(o);
      else out(describeBackup(o).join("\n"));
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
    .description("stream a snapshot end to end (hash, authentication, decompression, archive) without writing files")
    .option("--snapshot <id>", `${SNAPSHOT_HELP} (default: latest)`)
    .option("--all", "verify every snapshot of this install's group (and the older plugin's)")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--json", "machine-readable output on stdout")
    .action(async (flags: { snapshot?: string; all?: boolean; identity?: string; json?: boolean }, cmd: Command) => {
      const job = await backupJob(context, cmd);
      const results = await withProgress("verify", cmd, async (onProgress) => (await engine()).verifySnapshots(job, { ...flags, onProgress }));
      if (flags.json) json(results);
      else out(formatVerify(results).join("\n"));
      const failed = results.filter((r) => !r.ok);
      if (failed.length) throw new OperationError(`${failed.length} snapshot(s) failed verification: ${failed.map((f) => `${f.snapshot}: ${f.error}`).join("; ")}`);
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
      else out(formatRestore(r).join("\n"));
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
      else out(formatPrune(p).join("\n"));
    });

  return backup;
}
