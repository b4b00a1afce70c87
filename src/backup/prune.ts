// Removing what should go: leftovers of interrupted runs, and the snapshots retention no longer keeps.
// Leftovers this state dir started (recorded as pending) go at once; others only after a grace period, since
// they may be an upload still running on another host that shares the repository.
import type { RetainPolicy } from "../config/types.js";
import { deleteObject, deleteSnapshot, type Leftover, type RepoAccess, type RepoListing } from "./formats/archive/listing.js";
import { applyRetention, type RetentionCandidate, type RetentionResult } from "./retention.js";
import { updateBackupState } from "./state.js";

export interface LeftoverPlan {
  remove: Leftover[];
  /** Too recent to be sure the run that wrote them is gone. */
  wait: Leftover[];
}

export function planLeftovers(listing: RepoListing, pending: readonly string[], graceMs: number, now: Date): LeftoverPlan {
  const plan: LeftoverPlan = { remove: [], wait: [] };
  for (const l of listing.leftovers) {
    if (pending.includes(l.snapshot) || now.getTime() - l.time.getTime() > graceMs) plan.remove.push(l);
    else plan.wait.push(l);
  }
  return plan;
}

export async function removeLeftovers(a: RepoAccess, plan: LeftoverPlan): Promise<string[]> {
  const removed: string[] = [];
  for (const l of plan.remove) {
    await deleteObject(a, l.object);
    removed.push(l.object);
  }
  return removed;
}

export interface RetentionPlan extends RetentionResult {
  /** Legacy snapshots among `remove` (only when legacy pruning was asked for). */
  legacyRemove: string[];
}

export function planRetention(listing: RepoListing, retain: number | RetainPolicy, protect: ReadonlySet<string>, includeLegacy = false): RetentionPlan {
  const candidates: RetentionCandidate[] = listing.snapshots.map((s) => ({ name: s.name, time: s.created, order: s.sequence }));
  if (includeLegacy) candidates.push(...listing.legacy.map((l) => ({ name: l.name, time: l.time })));
  const result = applyRetention(candidates, retain, protect);
  const legacy = new Set(listing.legacy.map((l) => l.name));
  return { ...result, legacyRemove: result.remove.filter((n) => legacy.has(n)) };
}

/**
 * Deletes what the plan removes; failures are collected, never thrown (the snapshots stay consistent). The names
 * are recorded as pending first: a run killed between a manifest and its data object leaves a data object the
 * next run then removes at once.
 */
export async function applyRetentionPlan(a: RepoAccess, plan: RetentionPlan, stateDir: string): Promise<{ removed: string[]; errors: string[] }> {
  const ours = plan.remove.filter((n) => !plan.legacyRemove.includes(n));
  if (ours.length) await updateBackupState(stateDir, (s) => void s.pending.push(...ours.filter((n) => !s.pending.includes(n))));
  const removed: string[] = [];
  const errors: string[] = [];
  const legacy = new Set(plan.legacyRemove);
  for (const name of plan.remove) {
    try {
      if (legacy.has(name)) await deleteObject(a, name);
      else await deleteSnapshot(a, name);
      removed.push(name);
    } catch (err) {
      errors.push(`could not delete ${name}: ${(err as Error).message}`);
    }
  }
  const gone = new Set(removed);
  if (ours.length) await updateBackupState(stateDir, (s) => void (s.pending = s.pending.filter((n) => !gone.has(n))));
  return { removed, errors };
}
