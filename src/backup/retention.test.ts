import { describe, expect, it } from "vitest";
import { applyRetention, isoWeek, type RetentionCandidate } from "./retention.js";

const snap = (iso: string, name = `s-${iso}`): RetentionCandidate => ({ name, time: new Date(iso) });
const names = (r: { keep: { name: string }[] }) => r.keep.map((k) => k.name);

describe("ISO weeks (UTC)", () => {
  it.each([
    ["2026-01-01T12:00:00Z", "2026-W01"], // Thursday
    ["2027-01-01T12:00:00Z", "2026-W53"], // Friday: still the last week of 2026
    ["2024-12-30T00:00:00Z", "2025-W01"], // Monday of the week holding 2025-01-02
    ["2026-03-08T23:59:59Z", "2026-W10"], // Sunday ends the week
    ["2026-03-09T00:00:00Z", "2026-W11"],
  ])("%s is %s", (iso, week) => expect(isoWeek(new Date(iso))).toBe(week));
});

describe("retention", () => {
  it("retain: N keeps the N newest", () => {
    const s = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"].map((d) => snap(`${d}T00:00:00Z`));
    const r = applyRetention(s, 2);
    expect(names(r)).toEqual(["s-2026-01-04T00:00:00Z", "s-2026-01-03T00:00:00Z"]);
    expect(r.remove).toEqual(["s-2026-01-02T00:00:00Z", "s-2026-01-01T00:00:00Z"]);
  });

  it("keeps the newest snapshot of each of the last N days, weeks and months, like restic", () => {
    const s = [
      snap("2026-03-10T20:00:00Z"),
      snap("2026-03-10T08:00:00Z"), // same day: not the day's newest
      snap("2026-03-09T10:00:00Z"),
      snap("2026-03-02T10:00:00Z"), // previous ISO week
      snap("2026-02-20T10:00:00Z"), // previous month
      snap("2026-01-05T10:00:00Z"),
    ];
    const r = applyRetention(s, { daily: 2, weekly: 2, monthly: 3 });
    expect(names(r).sort()).toEqual(
      ["s-2026-03-10T20:00:00Z", "s-2026-03-09T10:00:00Z", "s-2026-03-02T10:00:00Z", "s-2026-02-20T10:00:00Z", "s-2026-01-05T10:00:00Z"].sort(),
    );
    expect(r.remove).toEqual(["s-2026-03-10T08:00:00Z"]);
    expect(r.keep.find((k) => k.name === "s-2026-03-10T20:00:00Z")!.reasons).toEqual(expect.arrayContaining(["newest", "daily 2026-03-10", "weekly 2026-W11", "monthly 2026-03"]));
  });

  it("hourly and yearly buckets count only buckets that hold a snapshot", () => {
    const s = [snap("2026-05-01T10:30:00Z"), snap("2026-05-01T10:10:00Z"), snap("2026-05-01T07:00:00Z"), snap("2025-12-31T23:00:00Z"), snap("2024-06-01T00:00:00Z")];
    expect(names(applyRetention(s, { hourly: 2 }))).toEqual(["s-2026-05-01T10:30:00Z", "s-2026-05-01T07:00:00Z"]);
    expect(names(applyRetention(s, { yearly: 5 }))).toEqual(["s-2026-05-01T10:30:00Z", "s-2025-12-31T23:00:00Z", "s-2024-06-01T00:00:00Z"]);
  });

  it("never deletes the newest, even when the policy keeps nothing", () => {
    const s = [snap("2026-01-01T00:00:00Z"), snap("2026-01-02T00:00:00Z")];
    expect(names(applyRetention(s, { daily: 0 }))).toEqual(["s-2026-01-02T00:00:00Z"]);
    expect(applyRetention([], 3)).toEqual({ keep: [], remove: [] });
  });

  it("a clock that jumped cannot make it delete the snapshot just committed", () => {
    // An older snapshot was dated in the future by a wrong clock; the new one (protected) is the real newest.
    const future = snap("2031-01-01T00:00:00Z", "future");
    const committed = snap("2026-01-03T00:00:00Z", "committed");
    const r = applyRetention([future, snap("2026-01-01T00:00:00Z", "old"), committed], 1, new Set(["committed"]));
    expect(names(r).sort()).toEqual(["committed", "future"]);
    expect(r.remove).toEqual(["old"]);
  });

  it("newest means last committed: a snapshot dated by a wrong clock is ordered by its commit sequence", () => {
    // "future" was taken while the host clock said 2099, "past" while it said 2001; "now" was committed last.
    const future = { ...snap("2099-01-01T00:00:00Z", "future"), order: 2 };
    const past = { ...snap("2001-01-01T00:00:00Z", "past"), order: 3 };
    const now = { ...snap("2026-01-03T00:00:00Z", "now"), order: 4 };
    const first = { ...snap("2026-01-01T00:00:00Z", "first"), order: 1 };
    expect(names(applyRetention([future, past, now, first], 2))).toEqual(["now", "past"]);
    expect(applyRetention([future, past, first], 1).keep).toEqual([{ name: "past", reasons: ["newest", "last"] }]);
    // Manifests written before the sequence existed (order 0) are older than any sequenced one.
    expect(names(applyRetention([snap("2030-01-01T00:00:00Z", "old-format"), { ...snap("2026-01-01T00:00:00Z", "seq"), order: 1 }], 1))).toEqual(["seq"]);
  });
});
