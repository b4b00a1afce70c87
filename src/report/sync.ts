// What one sync cycle did (or would do), as lines for the CLI, the setup wizard and the plugin's log and replies.
import type { CycleReport } from "../sync/engine.js";
import { formatDuration, nameList } from "./format.js";

export function describeCycle(r: CycleReport): string[] {
  const lines: string[] = [];
  const verb = r.dryRun ? "would " : "";
  for (const [label, res] of [["push", r.pushed], ["pull", r.pulled]] as const) {
    if (!res) continue;
    lines.push(`${label}: ${verb}copy ${res.copied.length} file(s), ${verb}delete ${res.deleted.length} file(s)`);
    if (r.dryRun && res.copied.length) lines.push(`  copy: ${nameList(res.copied)}`);
    if (r.dryRun && res.deleted.length) lines.push(`  delete: ${nameList(res.deleted)}`);
  }
  if (r.mode === "mailbox" && !r.direction) {
    lines.push(r.arrived.length ? `inbox: ${r.dryRun ? "would receive" : "received"} ${r.arrived.length} file(s): ${nameList(r.arrived)}` : "inbox: nothing new");
  }
  if (r.mode === "mirror" && r.arrived.length) lines.push(`ingest: ${r.dryRun ? "would take in" : "took in"} ${r.arrived.length} file(s): ${nameList(r.arrived)}`);
  if (r.resyncPreview) {
    const p = r.resyncPreview;
    lines.push(`resync: ${p.toRemote.length} file(s) to the remote, ${p.toLocal.length} to the workspace, ${p.differ.length} differing (workspace wins)`);
  }
  lines.push(...(r.notices ?? []));
  if (r.cancelled) lines.push("resync cancelled: nothing changed");
  if (r.bisync) {
    lines.push(`bisync: ${r.bisync.resynced ? "baseline established" : r.dryRun ? "dry run done" : "done"}`);
    if (r.bisync.conflicts.length) lines.push(`conflicts (both versions kept): ${nameList(r.bisync.conflicts)}`);
  }
  lines.push(`${r.dryRun ? "dry run" : "sync"} finished in ${formatDuration(r.durationMs)}`);
  return lines;
}
