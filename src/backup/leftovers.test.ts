import os from "node:os";
import { describe, expect, it } from "vitest";
import type { Leftover } from "./formats/format.js";
import { planCleanup } from "./leftovers.js";
import type { PendingWrite } from "./state.js";

const NOW = new Date("2026-01-03T12:30:00Z");
const left = (owner: string, modTime: string, extra: Partial<Leftover> = {}): Leftover => ({ format: "archive", object: owner, owner, modTime: new Date(modTime), reason: "no manifest", ...extra });
const record = (key: string, extra: Partial<PendingWrite> = {}): PendingWrite => ({ key, format: "archive", host: os.hostname(), pid: 0, at: "", ...extra });
const GRACE = 3_600_000;

describe("leftover ownership", () => {
  it("removes leftovers this host recorded at once, whatever their age (the caller holds the backup lock)", () => {
    const plan = planCleanup([left("a", "2026-01-03T12:29:59Z"), left("c", "2026-01-03T12:29:59Z")], [record("a", { pid: 2 ** 22 + 12345 }), record("c", { pid: process.ppid })], NOW, GRACE);
    expect(plan.remove.map((l) => l.owner)).toEqual(["a", "c"]);
  });

  it("never touches an object no run of this install recorded, however old its name or its listing says it is", () => {
    const plan = planCleanup([left("backup-20250101T000000Z-12345678.tar.zst.age", "2025-01-01T00:00:00Z")], [], NOW, GRACE);
    expect(plan.foreign).toHaveLength(1);
    expect(plan.remove).toEqual([]);
  });

  it("waits for an upload recorded on another host until the listing's time says it is old", () => {
    const elsewhere = record("b", { host: "another-host", pid: 4242 });
    expect(planCleanup([left("b", "2026-01-03T12:00:00Z")], [elsewhere], NOW, GRACE).wait).toHaveLength(1);
    expect(planCleanup([left("b", "2026-01-03T11:00:00Z")], [elsewhere], NOW, GRACE).remove).toHaveLength(1);
    // A clock behind (now earlier than the listing's time) makes nothing look old.
    expect(planCleanup([left("b", "2026-01-03T12:00:00Z")], [elsewhere], new Date("2001-01-01T00:00:00Z"), GRACE).wait).toHaveLength(1);
  });

  it("takes a record of another format as no proof", () => {
    expect(planCleanup([left("a", "2020-01-01T00:00:00Z")], [record("a", { format: "repository" })], NOW, GRACE).foreign).toHaveLength(1);
  });

  it("lets a format vouch for its own leftovers", () => {
    expect(planCleanup([left("x", "2026-01-03T12:30:00Z", { writerGone: true })], [], NOW, GRACE).remove).toHaveLength(1);
  });
});
