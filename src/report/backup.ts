// How backup results read for people: the CLI prints these lines, the setup wizard and the plugin reuse them.
import type { BackupOutcome, BackupStatus, PruneReport, RestoreReport, SnapshotList, VerifyResult } from "../backup/index.js";

const MAX_NAMES = 10;

// The same rendering as the CLI's progress line (binary units).
function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

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
