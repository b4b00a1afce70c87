// Retention as a pure function, with restic's `forget --keep-*` semantics: keep the N newest (`last`), and the
// newest snapshot of each of the N most recent hours/days/ISO weeks/months/years that hold one (UTC).
// The newest snapshot and any protected one (the snapshot just committed) are always kept, so a clock that
// jumped (a snapshot dated in the future or the past) can never make retention delete the newest good snapshot.
import type { RetainPolicy } from "../config/types.js";

export interface RetentionCandidate {
  name: string;
  time: Date;
  /** Commit order (higher = committed later); decides "newest" before the time does. Default 0. */
  order?: number;
}

export interface RetentionResult {
  keep: { name: string; reasons: string[] }[];
  remove: string[];
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** ISO-8601 week of a UTC date, e.g. "2026-W01" (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day); // the Thursday of this week decides the year
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${pad(week)}`;
}

const BUCKETS: [keyof RetainPolicy, (d: Date) => string][] = [
  ["hourly", (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`],
  ["daily", (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`],
  ["weekly", isoWeek],
  ["monthly", (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`],
  ["yearly", (d) => String(d.getUTCFullYear())],
];

export function normalizePolicy(retain: number | RetainPolicy): RetainPolicy {
  return typeof retain === "number" ? { last: retain } : retain;
}

export function applyRetention(
  snapshots: readonly RetentionCandidate[],
  retain: number | RetainPolicy,
  protect: ReadonlySet<string> = new Set(),
): RetentionResult {
  const policy = normalizePolicy(retain);
  const sorted = [...snapshots].sort(
    (a, b) => (b.order ?? 0) - (a.order ?? 0) || b.time.getTime() - a.time.getTime() || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0),
  );
  const reasons = new Map<string, string[]>();
  const mark = (name: string, why: string) => reasons.set(name, [...(reasons.get(name) ?? []), why]);

  if (sorted[0]) mark(sorted[0].name, "newest");
  for (const s of sorted) if (protect.has(s.name)) mark(s.name, "just committed");
  sorted.slice(0, Math.max(0, policy.last ?? 0)).forEach((s) => mark(s.name, "last"));
  for (const [kind, bucketOf] of BUCKETS) {
    let left = policy[kind] ?? 0;
    let lastBucket: string | undefined;
    for (const s of sorted) {
      if (left <= 0) break;
      const bucket = bucketOf(s.time);
      if (bucket === lastBucket) continue;
      lastBucket = bucket;
      mark(s.name, `${kind} ${bucket}`);
      left--;
    }
  }
  return {
    keep: sorted.filter((s) => reasons.has(s.name)).map((s) => ({ name: s.name, reasons: reasons.get(s.name)! })),
    remove: sorted.filter((s) => !reasons.has(s.name)).map((s) => s.name),
  };
}
