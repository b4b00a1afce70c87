// `workspace-sync backup now|list|status|verify|restore|prune`: thin wrappers over the backup engine that print
// a human summary (or --json on stdout) and show byte progress on a TTY.
import type { Command } from "commander";
import type { AppContext } from "../../app/context.js";
import type {
  BackupOutcome,
  BackupStatus,
  Progress,
  PruneReport,
  RestoreReport,
  SnapshotList,
  VerifyResult,
} from "../../backup/index.js";
import { OperationError } from "../../util/errors.js";
import { formatBytes, statsReporter } from "../progress.js";

type ContextOf = (cmd: Command) => Promise<AppContext>;

/** The backup engine is loaded only when a backup command runs (a sync or status does not need it). */
const engine = () => import("../../backup/index.js");

const LABELS: Record<Progress["phase"], string> = { backup: "backing up", verify: "verifying", restore: "restoring" };
const MAX_NAMES = 10;

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
const few = (names: string[]) => names.slice(0, MAX_NAMES).join(", ") + (names.length > MAX_NAMES ? `, … (${names.length - MAX_NAMES} more)` : "");

export function describeBackup(o: BackupOutcome): string[] {
  const lines: string[] = [];
  if (o.cleaned.length) lines.push(`removed ${o.cleaned.length} leftover object(s) of interrupted backups`);
  if (o.skipped) lines.push(`backup skipped: ${o.reason}`);
  else if (o.snapshot) {
    lines.push(
      `snapshot ${o.snapshot} committed: ${o.files} files, ${formatBytes(o.bytes ?? 0)} archived, ${formatBytes(o.storedBytes ?? 0)} stored, in ${(o.durationMs / 1000).toFixed(1)}s`,
    );
  }
  if (o.missingItems.length) lines.push(`not found (recorded in the manifest): ${o.missingItems.join(", ")}`);
  if (o.pruned.length) lines.push(`retention removed ${o.pruned.length} snapshot(s): ${few(o.pruned)}`);
  if (o.warnings.length) lines.push(`${o.warnings.length} warning(s): ${few(o.warnings)}`);
  return lines;
}

export function formatList(l: SnapshotList): string[] {
  const lines = [`repository: ${l.repository}`];
  if (!l.snapshots.length && !l.legacy.length) lines.push("no snapshots yet");
  for (const s of l.snapshots) {
    lines.push(`${s.name}  ${s.created}  ${s.files} files  ${formatBytes(s.storedBytes)}  ${s.encryption}  [${s.items.join(", ")}]${s.missing.length ? `  missing: ${s.missing.join(", ")}` : ""}`);
  }
  for (const s of l.legacy) lines.push(`${s.name}  ${s.time}  ${formatBytes(s.storedBytes)}  legacy (older plugin${s.encrypted ? ", openssl" : ""})`);
  for (const d of l.damaged) lines.push(`DAMAGED ${d.name}: ${d.problem}`);
  if (l.leftovers) lines.push(`(${l.leftovers} leftover object(s) of interrupted runs; the next backup or prune removes them)`);
  return lines;
}

export function formatStatus(s: BackupStatus): string[] {
  const st = s.state;
  const enc = s.encryption.scheme === "none" ? "none" : `age (${s.encryption.recipientType === "scrypt" ? "passphrase" : "recipients"})`;
  const lines = [
    `backup:     ${s.enabled ? `enabled, every ${s.interval}s` : "configured, scheduled runs disabled"} → ${s.remote}`,
    `items:      ${s.include.join(", ")}`,
    `format:     tar + ${s.compression}, encryption ${enc}, retain ${JSON.stringify(s.retain)}`,
  ];
  const last = st.lastRun;
  if (!last) lines.push("last run:   never");
  else if (!last.ok) lines.push(`last run:   ${last.finishedAt} FAILED: ${last.error}`);
  else if (last.skipped) lines.push(`last run:   ${last.finishedAt} skipped (${last.reason})`);
  else lines.push(`last run:   ${last.finishedAt} ok: ${last.snapshot}`);
  if (st.lastSuccess && st.lastSuccess !== last) lines.push(`last good:  ${st.lastSuccess.finishedAt} ${st.lastSuccess.snapshot}`);
  if (st.skippedCount) lines.push(`skipped:    ${st.skippedCount} unchanged scheduled run(s), last ${st.lastSkipped?.at}`);
  if (s.nextRun) lines.push(`next run:   ${s.nextRun} (service schedule)`);
  if (s.runningNow) lines.push(`running:    ${s.runningNow.purpose}, pid ${s.runningNow.pid} since ${s.runningNow.since}`);
  if (st.pending.length) lines.push(`leftovers:  ${st.pending.length} interrupted upload(s) to clean on the next run`);
  for (const e of st.errors.slice(-3)) lines.push(`error:      ${e.at} ${e.message}`);
  return lines;
}

export function formatVerify(results: VerifyResult[]): string[] {
  return results.map((r) =>
    r.ok
      ? `ok ${r.snapshot}${r.legacy ? " (legacy)" : ""}: ${r.files} files, ${formatBytes(r.bytes ?? 0)} in ${formatBytes(r.storedBytes ?? 0)} stored, sha256 ${r.sha256}`
      : `FAILED ${r.snapshot}: ${r.error}`,
  );
}

export function formatRestore(r: RestoreReport): string[] {
  const lines: string[] = [];
  const what = `${r.files} files, ${r.dirs} folders, ${r.symlinks} symlinks, ${formatBytes(r.bytes)}`;
  if (r.dryRun) {
    lines.push(`dry run: ${r.snapshot} would restore ${what}`);
    for (const e of r.entries ?? []) lines.push(`  ${e}`);
  } else {
    lines.push(`restored ${r.snapshot} to ${r.target}: ${what}`);
    lines.push("the live locations were not touched: inspect the copy, then move what you need into place");
  }
  if (r.refused.length) lines.push(`refused ${r.refused.length} unsafe entr${r.refused.length === 1 ? "y" : "ies"}: ${few(r.refused.map((x) => `${x.path} (${x.reason})`))}`);
  if (r.diff) {
    const d = r.diff;
    lines.push(
      `compared with the live locations: ${d.same} unchanged, ${d.changed.length} differ, ${d.onlyInSnapshot.length} only in the snapshot, ${d.onlyLive.length} only live`,
    );
    if (d.changed.length) lines.push(`  differ: ${few(d.changed)}`);
    if (d.onlyInSnapshot.length) lines.push(`  only in the snapshot: ${few(d.onlyInSnapshot)}`);
    if (d.onlyLive.length) lines.push(`  only live (newer than the snapshot): ${few(d.onlyLive)}`);
  } else if (r.legacy && !r.dryRun) lines.push("legacy snapshot: its layout is the older plugin's, so no comparison with the live locations");
  return lines;
}

export function formatPrune(p: PruneReport): string[] {
  const verb = p.dryRun ? "would remove" : "removed";
  const lines = [`retention ${verb} ${p.remove.length} snapshot(s)${p.remove.length ? `: ${few(p.remove)}` : ""}; keeping ${p.keep.length}`];
  for (const k of p.keep) lines.push(`  keep ${k.name} (${k.reasons.join(", ")})`);
  if (p.leftovers.length) lines.push(`${verb} ${p.leftovers.length} leftover object(s) of interrupted runs: ${few(p.leftovers)}`);
  if (p.waiting.length) lines.push(`left for now (recent, maybe another host's upload in progress): ${few(p.waiting)}`);
  for (const e of p.errors) lines.push(`error: ${e}`);
  return lines;
}

export function addBackupCommands(program: Command, context: ContextOf): Command {
  const backup = program.command("backup").description("encrypted streaming snapshots of the agent system (now, list, status, verify, restore, prune)");

  backup
    .command("now")
    .description("take a snapshot now (never skipped as unchanged)")
    .option("--json", "machine-readable report on stdout")
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const ctx = await context(cmd);
      const agent = cmd.optsWithGlobals<{ agent?: string }>().agent;
      const o = await withProgress("backup", cmd, async (onProgress) => (await engine()).runBackup(ctx, { trigger: "cli", force: true, onProgress, signal: ctx.signal, ...(agent ? { agent } : {}) }));
      if (flags.json) json(o);
      else out(describeBackup(o).join("\n"));
    });

  backup
    .command("list")
    .description("list the snapshots in the repository (complete ones only; legacy snapshots of the older plugin marked)")
    .option("--json", "machine-readable output on stdout")
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const l = await (await engine()).listSnapshots(await context(cmd));
      if (flags.json) json(l);
      else out(formatList(l).join("\n"));
    });

  backup
    .command("status")
    .description("backup settings and the last runs (as recorded by the CLI and the plugin service)")
    .option("--json", "machine-readable output on stdout")
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const s = await (await engine()).backupStatus(await context(cmd));
      if (flags.json) json(s);
      else out(formatStatus(s).join("\n"));
    });

  backup
    .command("verify")
    .description("stream a snapshot end to end (hash, authentication, decompression, archive) without writing files")
    .option("--snapshot <name>", "snapshot to verify (default: the latest)")
    .option("--all", "verify every snapshot")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--json", "machine-readable output on stdout")
    .action(async (flags: { snapshot?: string; all?: boolean; identity?: string; json?: boolean }, cmd: Command) => {
      const ctx = await context(cmd);
      const results = await withProgress("verify", cmd, async (onProgress) => (await engine()).verifySnapshots(ctx, { ...flags, onProgress, signal: ctx.signal }));
      if (flags.json) json(results);
      else out(formatVerify(results).join("\n"));
      const failed = results.filter((r) => !r.ok);
      if (failed.length) throw new OperationError(`${failed.length} snapshot(s) failed verification: ${failed.map((f) => `${f.snapshot}: ${f.error}`).join("; ")}`);
    });

  backup
    .command("restore")
    .description("restore a snapshot into a fresh folder (default: a staging folder under the state dir; never the live workspace)")
    .option("--snapshot <name>", 'snapshot to restore, or "latest"', "latest")
    .option("--to <dir>", "restore into this folder (must be empty unless --force)")
    .option("--path <glob...>", "restore only archive paths matching these globs (e.g. workspace/memory/**)")
    .option("--dry-run", "list what would be restored, write nothing")
    .option("--force", "restore into a non-empty folder, replacing files of the same name")
    .option("--identity <file>", "age identity file for snapshots encrypted to recipients")
    .option("--json", "machine-readable report on stdout")
    .action(async (flags: { snapshot?: string; to?: string; path?: string[]; dryRun?: boolean; force?: boolean; identity?: string; json?: boolean }, cmd: Command) => {
      const ctx = await context(cmd);
      const r = await withProgress("restore", cmd, async (onProgress) => (await engine()).restoreSnapshot(ctx, { ...flags, paths: flags.path, onProgress, signal: ctx.signal }));
      if (flags.json) json(r);
      else out(formatRestore(r).join("\n"));
    });

  backup
    .command("prune")
    .description("apply the retention policy now and remove leftovers of interrupted runs (never the newest snapshot)")
    .option("--dry-run", "show what would be removed")
    .option("--include-legacy", "let retention remove the older plugin's legacy snapshots too")
    .option("--json", "machine-readable report on stdout")
    .action(async (flags: { dryRun?: boolean; includeLegacy?: boolean; json?: boolean }, cmd: Command) => {
      const p = await (await engine()).pruneRepository(await context(cmd), flags);
      if (flags.json) json(p);
      else out(formatPrune(p).join("\n"));
    });

  return backup;
}
