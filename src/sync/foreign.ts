// Files someone put into the cloud folder outside the folders the sync reads from (`_outbox/` in mailbox mode, the
// ingest folder in mirror mode): the remote follows the workspace, so a full compare moves them to the trash and the
// purge removes them after trashDays. That must never happen without a word: the cycle summary says it, and the
// state keeps it for `status` while the files can still be taken back.
import type { SyncJob } from "./job.js";
import { OUTBOX, REMOTE_TRASH_DIR } from "./filters.js";
import type { PushResult } from "./push.js";
import type { ForeignTrashed } from "./engine.js";

const MAX_NAMES = 20;
const MAX_RECORDS = 10;

function where(job: SyncJob, pushed: PushResult): string | undefined {
  return pushed.trash ? `${job.remote.display}/${REMOTE_TRASH_DIR}/${pushed.trash.stamp}` : undefined;
}

function until(job: SyncJob, at: Date): string | undefined {
  return job.config.trashDays > 0 ? new Date(at.getTime() + job.config.trashDays * 86_400_000).toISOString() : undefined;
}

/** Where files for the agent belong in this mode. */
function rightPlace(job: SyncJob): string {
  if (job.config.mode === "mailbox") return `put files for the agent into ${OUTBOX}/`;
  if (job.config.mode === "mirror" && job.config.ingest) return `put files for the agent into ${job.config.ingestPath}/`;
  return "the remote folder follows the workspace";
}

export function foreignNotice(job: SyncJob, pushed: PushResult, dryRun: boolean): string {
  const names = pushed.foreign ?? [];
  const shown = names.slice(0, MAX_NAMES).join(", ") + (names.length > MAX_NAMES ? `, … (${names.length - MAX_NAMES} more)` : "");
  const kept = where(job, pushed);
  const end = until(job, new Date());
  const what = `${names.length} file(s) found only on the remote, not in the workspace`;
  if (dryRun) {
    return `${what}, would be moved to the trash (${job.remote.display}/${REMOTE_TRASH_DIR}/${job.config.trashDays > 0 ? `, kept ${job.config.trashDays} day(s)` : " — no trash: deleted"}): ${shown} (${rightPlace(job)})`;
  }
  if (!kept) return `${what}, were deleted (trashDays is 0, so no copy is kept): ${shown} (${rightPlace(job)})`;
  return `${what}, were moved to the trash ${kept} and are kept until ${end!.slice(0, 16).replace("T", " ")} UTC: ${shown} (${rightPlace(job)}; to take them back, copy them out of the trash)`;
}

/** The records `status` shows: this run's (when it moved remote-only files) plus earlier ones still in the trash. */
export function keepForeignRecords(records: ForeignTrashed[] | undefined, pushed: PushResult | undefined, job: SyncJob, now: Date): ForeignTrashed[] {
  const kept = (records ?? []).filter((r) => Date.parse(r.until) > now.getTime());
  const keptIn = pushed && where(job, pushed);
  const end = until(job, now);
  // Without a trash (trashDays 0) there is nothing left to take back: the cycle's summary said they were deleted.
  if (pushed?.foreign?.length && keptIn && end) {
    kept.push({ at: now.toISOString(), count: pushed.foreign.length, paths: pushed.foreign.slice(0, MAX_NAMES), keptIn, until: end });
  }
  return kept.slice(-MAX_RECORDS);
}

/** One line per record still in the trash, for `status`. */
export function describeForeignRecords(records: ForeignTrashed[] | undefined, now = new Date()): string[] {
  return (records ?? [])
    .filter((r) => Date.parse(r.until) > now.getTime())
    .map(
      (r) =>
        `${r.count} file(s) found only on the remote were moved to the trash on ${r.at.slice(0, 16).replace("T", " ")} UTC and are kept in ${r.keptIn} ` +
        `until ${r.until.slice(0, 16).replace("T", " ")} UTC: ${r.paths.join(", ")}${r.count > r.paths.length ? ", …" : ""}`,
    );
}
