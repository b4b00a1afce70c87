// How backup results read for people: the CLI prints these lines, the setup wizard and the plugin reuse them.
import type { BackupOutcome, BackupStatus, DiffChange, DiffReport, ExportReport, FindReport, LsReport, PruneReport, RestoreReport, SnapshotList, SnapshotNode, VerifyResult } from "../backup/index.js";
import { formatBytes, isSnapshotId, nameList, snapshotLabel } from "./format.js";

const MAX_NAMES = 10;

const few = (names: string[]) => nameList(names, MAX_NAMES);

export function describeBackup(o: BackupOutcome): string[] {
  const lines: string[] = [];
  if (o.cleaned.length) lines.push(`removed ${o.cleaned.length} leftover object(s) of interrupted backups`);
  if (o.skipped) lines.push(`backup skipped: ${o.reason}`);
  else if (o.snapshot) {
    lines.push(
      `snapshot ${committedLabel(o.snapshot, o.short_id)}: ${o.files} files, ${formatBytes(o.bytes ?? 0)} archived, ${formatBytes(o.storedBytes ?? 0)} stored, in ${(o.durationMs / 1000).toFixed(1)}s`,
    );
  }
  // Told once: an item the previous snapshot also lacked is in the snapshot's record (and --json), not repeated here.
  const missing = o.newlyMissing ?? o.missingItems;
  if (missing.length) lines.push(`not found on this install (recorded in the snapshot): ${missing.join(", ")}`);
  if (o.pruned.length) lines.push(`retention removed ${o.pruned.length} snapshot(s): ${few(o.pruned)}`);
  if (o.warnings.length) lines.push(`${o.warnings.length} warning(s): ${few(o.warnings)}`);
  return lines;
}

const when = (iso: string) => iso.replace(/\.\d{3}Z$/, "Z");

/** "6d6796b8 committed" (repository), "backup-….tar.zst.age committed (ID eb9781ef)" (archive). */
function committedLabel(name: string, shortId: string | undefined): string {
  if (isSnapshotId(name) || !shortId) return `${snapshotLabel(name, shortId)} committed`;
  return `${name} committed (ID ${shortId})`;
}

export function formatList(l: SnapshotList): string[] {
  const lines = [`repository: ${l.repository}`];
  const g = l.group;
  if (l.showing.scope === "group") lines.push(`group ${g.key} (this install): host ${g.host}, paths ${g.paths.join(", ")}`);
  else if (l.showing.scope === "all") lines.push("every group (this install's is " + g.key + ")");
  else lines.push(`snapshots of ${[l.showing.host !== undefined ? `host ${l.showing.host}` : "", l.showing.agent !== undefined ? `agent ${l.showing.agent}` : ""].filter(Boolean).join(", ")}`);
  const own = l.showing.scope === "group";
  if (!l.snapshots.length && !l.legacy.length) lines.push(own && l.hidden ? "no snapshots of this install's group yet" : "no snapshots yet");
  for (const s of l.snapshots) {
    const who = own ? "" : `  ${s.host}${s.agent ? `/${s.agent}` : ""} group ${s.group}`;
    const size = s.storedBytes !== undefined ? `  ${formatBytes(s.storedBytes)}` : "";
    const files = s.files !== undefined ? `  ${s.files} files` : "";
    // A repository snapshot's name is its ID: show the format, and its paths where it records no items (restic's own).
    const name = s.name === s.id ? s.format : s.name;
    const what = s.items.length || !s.paths.length ? `[${s.items.join(", ")}]` : s.paths.join(", ");
    lines.push(`${s.short_id}  ${name}  ${when(s.created)}${files}${size}  ${s.encryption}  ${what}${s.missing.length ? `  missing: ${s.missing.join(", ")}` : ""}${who}`);
  }
  for (const s of l.legacy) lines.push(`${s.short_id}  ${s.name}  ${when(s.time)}  ${formatBytes(s.storedBytes)}  legacy (older plugin${s.encrypted ? ", openssl" : ""})`);
  for (const d of l.damaged) lines.push(`DAMAGED ${d.name}${d.short_id ? ` [${d.short_id}]` : ""}: ${d.problem}`);
  if (own && l.hidden) lines.push(`(${l.hidden} snapshot(s) of other groups — other hosts, agents or included paths — not shown: --all lists every group)`);
  if (l.leftovers) lines.push(`(${l.leftovers} leftover object(s) of interrupted runs; the next backup or prune removes them)`);
  if (l.foreign) lines.push(`(${l.foreign} object(s) named like snapshots but not written by this install: left alone)`);
  return lines;
}

export function formatStatus(s: BackupStatus): string[] {
  const st = s.state;
  const enc = s.encryption.encrypt ? `encrypted (${s.encryption.keys})` : "not encrypted";
  const lines = [
    `backup:     ${s.enabled ? `enabled, every ${s.interval}s` : "configured, scheduled runs disabled"} → ${s.remote}`,
    `items:      ${s.include.join(", ")}`,
    `format:     ${s.format} (${s.compression}), ${enc}, retain ${JSON.stringify(s.retain)}`,
    `group:      ${s.group.key}: host ${s.group.host}, agent ${s.group.agent}, paths ${s.group.paths.join(", ")}`,
  ];
  const last = st.lastRun;
  if (!last) lines.push("last run:   never");
  else if (!last.ok) lines.push(`last run:   ${last.finishedAt} FAILED: ${last.error}`);
  else if (last.skipped) lines.push(`last run:   ${last.finishedAt} skipped (${last.reason})`);
  else lines.push(`last run:   ${last.finishedAt} ok: ${last.snapshot}${last.shortId ? ` (${last.shortId})` : ""}`);
  if (st.lastSuccess && st.lastSuccess !== last) lines.push(`last good:  ${st.lastSuccess.finishedAt} ${st.lastSuccess.snapshot}`);
  if (st.skippedCount) lines.push(`skipped:    ${st.skippedCount} unchanged scheduled run(s), last ${st.lastSkipped?.at}`);
  if (s.nextRun) lines.push(`next run:   ${s.nextRun} (service schedule)`);
  if (s.runningNow) lines.push(`running:    ${s.runningNow.purpose}, pid ${s.runningNow.pid} since ${s.runningNow.since}`);
  if (st.pending.length) lines.push(`leftovers:  ${st.pending.length} interrupted write(s) to clean on the next run`);
  for (const e of st.errors.slice(-3)) lines.push(`error:      ${e.at} ${e.message}`);
  return lines;
}

/** What a verify that read data says it read: one stored object (archive), or the packs a repository snapshot uses. */
function readBack(r: VerifyResult): string {
  const bytes = formatBytes(r.bytes ?? 0);
  if (r.storedBytes !== undefined) return `${bytes} in ${formatBytes(r.storedBytes)} stored`;
  if (r.subset !== undefined) return `${bytes} of file data, a random ${+(r.subset * 100).toFixed(2)}% of the packs read back and checked`;
  return `${bytes} of file data, every pack it uses read back and checked`;
}

export function formatVerify(results: VerifyResult[]): string[] {
  const lines = results.map((r) => {
    if (!r.ok) return `FAILED ${snapshotLabel(r.snapshot, r.short_id)}: ${r.error}`;
    if (r.forgotten) return `gone ${snapshotLabel(r.snapshot, r.short_id)}: forgotten after this verify listed it (a forget or another run's retention): nothing to check`;
    const what = r.readData === false ? "structure ok (index, packs, trees; --read-data reads the data back)" : readBack(r);
    return `ok ${snapshotLabel(r.snapshot, r.short_id)}${r.legacy ? " (legacy)" : ""}: ${r.files ?? 0} files, ${what}${r.sha256 ? `, sha256 ${r.sha256}` : ""}`;
  });
  const hints = [...new Set(results.flatMap((r) => r.hints ?? []))];
  if (hints.length) lines.push(`${hints.length} non-critical finding(s): ${few(hints)}`);
  return lines;
}

// ---- browsing: ls, find, diff, export ----------------------------------------------------------------------------

const TYPE_LETTER: Record<string, string> = { file: "-", dir: "d", symlink: "l", fifo: "p", chardev: "c", dev: "b", socket: "s" };

/** ls -l's mode column ("drwxr-xr-x"), special bits included. */
export function modeString(n: Pick<SnapshotNode, "type" | "kind" | "mode">): string {
  const letter = TYPE_LETTER[n.type === "other" ? (n.kind ?? "") : n.type] ?? "?";
  const m = n.mode ?? 0;
  const rwx = (shift: number, special: number, on: string, off: string) => {
    const bits = (m >> shift) & 7;
    const x = bits & 1 ? (m & special ? on : "x") : m & special ? off : "-";
    return `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${x}`;
  };
  return letter + rwx(6, 0o4000, "s", "S") + rwx(3, 0o2000, "s", "S") + rwx(0, 0o1000, "t", "T");
}

const pad = (n: number) => String(n).padStart(2, "0");
/** restic's listing time: local, to the second. */
export function localTime(d: Date | undefined): string {
  if (!d || Number.isNaN(d.getTime())) return "                   ";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** One `backup ls` line: the path, or with -l mode, size, mtime, path (and a symlink's target), as `restic ls -l`. */
export function formatLsNode(n: SnapshotNode, long: boolean): string {
  const problem = n.problem ? `  (${n.problem})` : "";
  if (!long) return `${n.path}${problem}`;
  const target = n.type === "symlink" ? ` -> ${n.linkTarget ?? ""}` : "";
  return `${modeString(n)} ${String(n.size).padStart(12)} ${localTime(n.mtime)} ${n.path}${target}${problem}`;
}

/** `backup ls --json`: one object per line, the snapshot first (struct_type "snapshot"), then its nodes (restic's shape). */
export function lsSnapshotJson(r: LsReport): Record<string, unknown> {
  return { struct_type: "snapshot", id: r.id, short_id: r.short_id, name: r.snapshot, format: r.format, time: r.time, hostname: r.host, paths: r.paths, read_whole_snapshot: r.read_whole_snapshot };
}

export function lsNodeJson(n: SnapshotNode): Record<string, unknown> {
  const name = n.path.slice(n.path.lastIndexOf("/") + 1);
  return {
    struct_type: "node",
    name,
    type: n.type === "other" ? (n.kind ?? "other") : n.type,
    path: n.path,
    ...(n.type === "file" ? { size: n.size } : {}),
    ...(n.mode !== undefined ? { mode: n.mode, permissions: modeString(n) } : {}),
    ...(n.mtime ? { mtime: n.mtime.toISOString() } : {}),
    ...(n.type === "symlink" ? { linktarget: n.linkTarget ?? "" } : {}),
    ...(n.problem ? { problem: n.problem } : {}),
  };
}

/** A note for stderr when a listing had to read whole snapshots (archive format). */
export function wholeReadNote(count: number, what: string): string | undefined {
  if (count === 0) return undefined;
  return `note: ${what} read ${count === 1 ? "the whole snapshot" : `${count} snapshots whole`} (the archive format keeps no separate file tree; a repository snapshot answers from its trees)`;
}

export function formatFind(r: FindReport, long: boolean): string[] {
  const lines: string[] = [];
  for (const h of r.hits) {
    lines.push(`found ${h.matches.length} in snapshot ${h.short_id} (${h.snapshot}, ${when(h.time)}):`);
    for (const m of h.matches) {
      const node: SnapshotNode = { path: m.path, type: m.type, size: m.size, ...(m.kind ? { kind: m.kind } : {}), ...(m.mode !== undefined ? { mode: m.mode } : {}), ...(m.mtime ? { mtime: new Date(m.mtime) } : {}), ...(m.linkTarget !== undefined ? { linkTarget: m.linkTarget } : {}) };
      lines.push(`  ${formatLsNode(node, long)}`);
    }
  }
  const total = r.hits.reduce((n, h) => n + h.matches.length, 0);
  lines.push(total ? `${total} match(es) in ${r.hits.length} of ${r.searched} snapshot(s) searched` : `no match in ${r.searched} snapshot(s) searched for ${r.patterns.map((p) => `'${p}'`).join(", ")}`);
  for (const s of r.skipped) lines.push(`not searched: ${s.short_id} ${s.snapshot}: ${s.error}`);
  return lines;
}

function describeChange(c: DiffChange): string {
  const size = (n: number) => formatBytes(n);
  if (c.change === "+") return `+    ${c.path}${c.after?.type === "file" ? `  (${size(c.after.size)})` : c.after?.type === "dir" ? "/" : ""}`;
  if (c.change === "-") return `-    ${c.path}${c.before?.type === "file" ? `  (${size(c.before.size)})` : c.before?.type === "dir" ? "/" : ""}`;
  if (c.change === "M") return `M    ${c.path}${c.after?.type === "file" ? `  (${size(c.before!.size)} → ${size(c.after.size)})` : ""}`;
  if (c.change === "T") return `T    ${c.path}  (${c.before?.kind ?? c.before?.type} → ${c.after?.kind ?? c.after?.type})`;
  return `U    ${c.path}`;
}

export function formatDiff(r: DiffReport): string[] {
  const lines = [`comparing snapshot ${r.a.short_id} (${r.a.snapshot}) to ${r.b.short_id} (${r.b.snapshot})${r.compared_by === "content" ? " — both read whole, contents hashed" : ""}:`];
  for (const c of r.changes) lines.push(describeChange(c));
  const s = r.summary;
  const t = (x: typeof s.added) => `${x.files} files (${formatBytes(x.bytes)}), ${x.dirs} folders, ${x.symlinks} symlinks${x.others ? `, ${x.others} other` : ""}`;
  lines.push(`added:    ${t(s.added)}`);
  lines.push(`removed:  ${t(s.removed)}`);
  lines.push(`modified: ${s.modified.files} files (${formatBytes(s.modified.bytes_before)} → ${formatBytes(s.modified.bytes_after)}), ${s.modified.symlinks} symlinks${s.type_changed ? `; ${s.type_changed} changed type` : ""}${s.metadata_changed ? `; ${s.metadata_changed} with new mode or time only` : ""}`);
  return lines;
}

export function formatExport(r: ExportReport): string[] {
  const lines = [
    `exported snapshot ${r.short_id} (${r.snapshot}) to ${r.to}${r.replaced ? " (replaced)" : ""}: ${r.files} files, ${r.dirs} folders, ${r.symlinks} symlinks, ${formatBytes(r.bytes)} → ${formatBytes(r.stored.size)}, ${r.compression}, encryption ${r.encryption}`,
    `sha256 ${r.stored.sha256}`,
  ];
  const open = r.encryption === "none" ? "zstd -dc FILE | tar -x" : `age -d${r.encryption.includes("recipients") ? " -i IDENTITY" : ""} FILE | zstd -dc | tar -x`;
  lines.push(`open it with the standard tools: ${open}`);
  if (r.skipped.length) lines.push(`not exported (${r.skipped.length}): ${few(r.skipped.map((x) => `${x.path} (${x.reason})`))}`);
  return lines;
}

export function formatRestore(r: RestoreReport): string[] {
  const lines: string[] = [];
  const what = `${r.files} files, ${r.dirs} folders, ${r.symlinks} symlinks, ${formatBytes(r.bytes)}`;
  if (r.dryRun) {
    lines.push(`dry run: ${snapshotLabel(r.snapshot, r.short_id, (id) => `(${id})`)} would restore ${what}`);
    const listed = r.entries ?? [];
    for (const e of listed) lines.push(`  ${e}`);
    const total = r.entriesTotal ?? listed.length;
    if (total > listed.length) lines.push(`  … the list is cut: ${total - listed.length} more path(s) of ${total} not shown (\`--json\` lists every path)`);
  } else {
    lines.push(`restored ${snapshotLabel(r.snapshot, r.short_id, (id) => `(${id})`)} to ${r.target}: ${what}`);
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
  const lines = [`retention ${verb} ${p.remove.length} snapshot(s)${p.remove.length ? `: ${few(p.remove)}` : ""}; keeping ${p.keep.length} (this install's group only)`];
  for (const k of p.keep) lines.push(`  keep ${k.short_id} ${k.name} (${k.reasons.join(", ")})`);
  if (p.leftovers.length) lines.push(`${verb} ${p.leftovers.length} leftover object(s) of interrupted runs: ${few(p.leftovers)}`);
  if (p.waiting.length) lines.push(`left for now (recent, maybe another host's upload in progress): ${few(p.waiting)}`);
  if (p.foreign.length) lines.push(`left alone (named like snapshots, not written by this install): ${few(p.foreign)}`);
  for (const d of p.data) lines.push(`${verb} ${d.removed} unreferenced ${d.format} object(s), ${formatBytes(d.freedBytes)}`);
  for (const e of p.errors) lines.push(`error: ${e}`);
  return lines;
}
