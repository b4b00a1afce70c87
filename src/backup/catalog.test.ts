import { describe, expect, it } from "vitest";
import { type Catalog, newestFirst, resolveSnapshot } from "./catalog.js";
import type { SnapshotSummary } from "./formats/format.js";
import { groupOf } from "./groups.js";
import { planRetention, retentionCandidates } from "./prune.js";

const mine = groupOf("gw", ["/s", "/s/workspace"]);
const theirs = groupOf("other", ["/s", "/s/workspace"]);

function snap(id: string, time: string, over: Partial<SnapshotSummary> = {}): SnapshotSummary {
  return {
    format: "archive",
    id: id.padEnd(64, "0"),
    shortId: id.padEnd(64, "0").slice(0, 8),
    name: `backup-${id}`,
    time: new Date(time),
    order: 0,
    host: mine.host,
    agent: "main",
    paths: mine.paths,
    group: mine.key,
    managed: true,
    items: [],
    missingItems: [],
    encryption: "none",
    layout: [],
    ...over,
  };
}

const catalog = (snapshots: SnapshotSummary[]): Catalog => ({ snapshots: newestFirst(snapshots), damaged: [], leftovers: [] });

describe("catalog", () => {
  it("orders by commit order within a format and by time across formats", () => {
    const a = snap("aa", "2099-01-01T00:00:00Z", { order: 1 }); // taken with a clock in 2099, committed first
    const b = snap("bb", "2026-01-01T00:00:00Z", { order: 2 });
    const legacy = snap("cc", "2025-01-01T00:00:00Z", { format: "legacy", managed: false, group: "" });
    expect(newestFirst([legacy, a, b]).map((s) => s.name)).toEqual(["backup-bb", "backup-aa", "backup-cc"]);
  });

  it("`latest` is the newest of this install's group, never another install's", () => {
    const c = catalog([snap("aa", "2026-01-01T00:00:00Z"), snap("bb", "2026-01-02T00:00:00Z", { host: "other", group: theirs.key })]);
    expect(resolveSnapshot(c, "latest", mine).name).toBe("backup-aa");
    expect(resolveSnapshot(c, undefined, theirs).name).toBe("backup-bb");
    expect(() => resolveSnapshot(catalog([snap("bb", "2026-01-02T00:00:00Z", { host: "other", group: theirs.key })]), "latest", mine)).toThrow(
      /no snapshot of this install's group .* name one by its ID/,
    );
  });

  it("finds a snapshot by unique ID prefix or full name; an ambiguous prefix lists the candidates", () => {
    const c = catalog([snap("ab12", "2026-01-01T00:00:00Z"), snap("ab34", "2026-01-02T00:00:00Z"), snap("cd", "2026-01-03T00:00:00Z")]);
    expect(resolveSnapshot(c, "ab1", mine).name).toBe("backup-ab12");
    expect(resolveSnapshot(c, "CD", mine).name).toBe("backup-cd");
    expect(resolveSnapshot(c, "backup-ab34", mine).name).toBe("backup-ab34");
    expect(resolveSnapshot(c, "backup-ab34.manifest.json", mine).name).toBe("backup-ab34");
    expect(() => resolveSnapshot(c, "ab", mine)).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/ambiguous.*ab340000 backup-ab34.*ab120000 backup-ab12/) }));
    expect(() => resolveSnapshot(c, "ef", mine)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it("falls back to the older plugin's newest only when this product has no snapshot at all", () => {
    const legacy = snap("ee", "2025-01-01T00:00:00Z", { format: "legacy", managed: false, group: "", host: "" });
    expect(resolveSnapshot(catalog([legacy]), "latest", mine).name).toBe("backup-ee");
  });

  it("retention looks at this install's group only, and at legacy snapshots only when asked", () => {
    const c = catalog([
      snap("a1", "2026-01-01T00:00:00Z", { order: 1 }),
      snap("a2", "2026-01-02T00:00:00Z", { order: 2 }),
      snap("b1", "2026-01-03T00:00:00Z", { host: "other", group: theirs.key, order: 3 }),
      snap("l1", "2025-01-01T00:00:00Z", { format: "legacy", managed: false, group: "" }),
    ]);
    const plan = planRetention(retentionCandidates(c, mine, false), 1);
    expect(plan.remove.map((s) => s.name)).toEqual(["backup-a1"]);
    expect(plan.keep.map((k) => [k.snapshot.name, k.reasons])).toEqual([["backup-a2", ["newest", "last"]]]);
    expect(planRetention(retentionCandidates(c, mine, true), 1).remove.map((s) => s.name)).toEqual(["backup-a1", "backup-l1"]);
  });
});
