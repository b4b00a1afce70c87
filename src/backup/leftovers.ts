// Which leftovers may go. A format reports objects a killed or failed run left behind (named like its own, no
// snapshot uses them), with their modification time from the folder's listing. This install removes one only when
// it can prove it wrote it — the format's key is in its journal (backup-state.json `pending`, recorded before the
// first byte was written) — and that nothing is still writing it:
//   - recorded on this host: every journal write happens under the backup lock, which the caller now holds, and the
//     caller has stopped this host's stray writers (rclone children of killed runs): the writer is gone;
//   - recorded on another host (a state dir shared between hosts): only once the listing's modification time is
//     older than the grace period.
// Anything else is left alone: a user's `backup-20250101T000000Z-12345678.tar.zst.age`, another install's upload in
// progress. The age comes from the listing, never from a date in the name, so a writer whose clock is behind cannot
// make its upload in progress look old.
import os from "node:os";
import { processStartTime } from "../state/lock.js";
import type { Leftover, WriteJournal } from "./formats/format.js";
import { type PendingWrite, updateBackupState } from "./state.js";

export interface CleanupPlan {
  remove: Leftover[];
  /** This install's, but its writer may still be running: left for a later run. */
  wait: Leftover[];
  /** Not recorded by this install: never touched. */
  foreign: Leftover[];
}

/** Extra time beyond the backup timeout before an upload by another host sharing this journal counts as abandoned. */
export const LEFTOVER_GRACE_MS = 10 * 60_000;

/** Whether the run that recorded `record` can still be writing (the caller holds the backup lock). */
export function writerGone(record: PendingWrite): boolean {
  return record.host === os.hostname() || record.host === "";
}

export function planCleanup(leftovers: readonly Leftover[], journal: readonly PendingWrite[], now: Date, graceMs: number): CleanupPlan {
  const plan: CleanupPlan = { remove: [], wait: [], foreign: [] };
  for (const l of leftovers) {
    if (l.writerGone) {
      plan.remove.push(l);
      continue;
    }
    const record = journal.find((r) => r.key === l.owner && r.format === l.format);
    if (!record) plan.foreign.push(l);
    else if (writerGone(record) || now.getTime() - l.modTime.getTime() > graceMs) plan.remove.push(l);
    else plan.wait.push(l);
  }
  return plan;
}

/** Journal records whose leftovers are gone (or whose write committed) need no more attention. */
export async function forgetFinished(stateDir: string, formats: readonly string[], stillLeft: readonly Leftover[]): Promise<void> {
  const left = new Set(stillLeft.map((l) => `${l.format}\0${l.owner}`));
  await updateBackupState(stateDir, (s) => {
    s.pending = s.pending.filter((p) => !formats.includes(p.format) || left.has(`${p.format}\0${p.key}`));
  });
}

/** The journal a format records its writes (and deletions) in. */
export function journalFor(stateDir: string, format: string): WriteJournal {
  return {
    async begin(key) {
      const record: PendingWrite = { key, format, host: os.hostname(), pid: process.pid, at: new Date().toISOString() };
      const startTime = processStartTime(process.pid);
      if (startTime) record.startTime = startTime;
      await updateBackupState(stateDir, (s) => {
        s.pending = s.pending.filter((p) => !(p.format === format && p.key === key));
        s.pending.push(record);
      });
    },
    async end(key) {
      await updateBackupState(stateDir, (s) => {
        s.pending = s.pending.filter((p) => !(p.format === format && p.key === key));
      });
    },
  };
}
