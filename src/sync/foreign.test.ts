import { describe, expect, it } from "vitest";
import type { ForeignTrashed } from "./engine.js";
import { describeForeignRecords, keepForeignRecords } from "./foreign.js";
import type { SyncJob } from "./job.js";
import type { PushResult } from "./push.js";

const job = (trashDays: number) => ({ config: { trashDays, mode: "mailbox", ingest: false, ingestPath: "inbox" }, remote: { display: "local:/nas/share" } }) as unknown as SyncJob;
const pushed = (foreign: string[], stamp = "20260101T000000.000Z") =>
  ({ copied: [], deleted: [], removed: foreign, bytes: 0, dryRun: false, strategy: "full", scanned: 0, foreign, trash: { folder: `x:/${stamp}`, stamp } }) as PushResult;

describe("remote-only files moved to the trash, as status keeps them", () => {
  it("records where and until when, keeps them while they are in the trash, drops them after", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const kept = keepForeignRecords(undefined, pushed(["a.pdf", "b.txt"]), job(7), now);
    expect(kept).toEqual<ForeignTrashed[]>([
      { at: now.toISOString(), count: 2, paths: ["a.pdf", "b.txt"], keptIn: "local:/nas/share/.workspace-sync-trash/20260101T000000.000Z", until: "2026-01-08T00:00:00.000Z" },
    ]);
    expect(describeForeignRecords(kept, new Date("2026-01-02T00:00:00Z"))[0]).toMatch(/2 file\(s\) .* kept in local:\/nas\/share\/\.workspace-sync-trash\/20260101T000000\.000Z until 2026-01-08 00:00 UTC: a\.pdf, b\.txt/);
    // A later run without remote-only files keeps the record until the purge date, then drops it.
    expect(keepForeignRecords(kept, undefined, job(7), new Date("2026-01-05T00:00:00Z"))).toHaveLength(1);
    expect(keepForeignRecords(kept, undefined, job(7), new Date("2026-01-09T00:00:00Z"))).toEqual([]);
    expect(describeForeignRecords(kept, new Date("2026-01-09T00:00:00Z"))).toEqual([]);
  });

  it("without a trash (trashDays 0) nothing is kept, so there is nothing to show later", () => {
    const p = { ...pushed(["a.pdf"]), trash: undefined };
    expect(keepForeignRecords(undefined, p, job(0), new Date())).toEqual([]);
  });
});
