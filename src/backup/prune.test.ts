import { describe, expect, it } from "vitest";
import type { Manifest } from "./formats/archive/manifest.js";
import { planLeftovers, planRetention } from "./prune.js";
import type { RepoListing } from "./formats/archive/listing.js";

const t = (iso: string) => new Date(iso);
const listing = (): RepoListing => ({
  snapshots: ["2026-01-03", "2026-01-02"].map((d, i) => ({ name: `backup-${d.replace(/-/g, "")}T000000Z-0000000${i}.tar.zst.age`, manifest: {} as Manifest, created: t(`${d}T00:00:00Z`), sequence: 0, size: 1 })),
  damaged: [],
  legacy: [{ name: "backup-20250101T000000Z.tar.gz.enc", time: t("2025-01-01T00:00:00Z"), size: 1, encrypted: true }],
  leftovers: [
    { object: "backup-20260103T120000Z-aaaaaaaa.tar.zst.age", snapshot: "backup-20260103T120000Z-aaaaaaaa.tar.zst.age", time: t("2026-01-03T12:00:00Z"), reason: "no manifest" },
    { object: "backup-20260103T115900Z-bbbbbbbb.tar.zst.age", snapshot: "backup-20260103T115900Z-bbbbbbbb.tar.zst.age", time: t("2026-01-03T11:59:00Z"), reason: "no manifest" },
    { object: "backup-20260101T000000Z-cccccccc.tar.zst.age.manifest.json", snapshot: "backup-20260101T000000Z-cccccccc.tar.zst.age", time: t("2026-01-01T00:00:00Z"), reason: "invalid manifest" },
  ],
  names: new Set(),
});

describe("prune planning", () => {
  it("removes our own killed runs at once, others' only after the grace period", () => {
    const plan = planLeftovers(listing(), ["backup-20260103T115900Z-bbbbbbbb.tar.zst.age"], 3_600_000, t("2026-01-03T12:30:00Z"));
    expect(plan.remove.map((l) => l.snapshot)).toEqual(["backup-20260103T115900Z-bbbbbbbb.tar.zst.age", "backup-20260101T000000Z-cccccccc.tar.zst.age"]);
    expect(plan.wait.map((l) => l.snapshot)).toEqual(["backup-20260103T120000Z-aaaaaaaa.tar.zst.age"]);
  });

  it("leaves legacy snapshots alone unless asked", () => {
    expect(planRetention(listing(), 1, new Set()).remove).toEqual(["backup-20260102T000000Z-00000001.tar.zst.age"]);
    const withLegacy = planRetention(listing(), 1, new Set(), true);
    expect(withLegacy.legacyRemove).toEqual(["backup-20250101T000000Z.tar.gz.enc"]);
  });
});
