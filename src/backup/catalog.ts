// The snapshots of every format in the backup folder as one catalog: merged newest first, split by group, and the
// one place a snapshot named on the command line is found (`latest`, a unique ID prefix, or the full name).
import { OperationError, UsageError } from "../util/errors.js";
import type { DamagedSnapshot, Leftover, SnapshotSummary, StorageFormat } from "./formats/format.js";
import type { Group } from "./groups.js";

export interface Catalog {
  /** Intact snapshots of every format, newest first (see newestFirst). */
  snapshots: SnapshotSummary[];
  damaged: DamagedSnapshot[];
  leftovers: Leftover[];
}

const byNameDesc = (a: SnapshotSummary, b: SnapshotSummary) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);

/**
 * Newest first. Within a format, commit order decides, then the time taken (a host clock that was wrong when a snapshot
 * was taken cannot make an older one pass for the newest); across formats — whose commit orders are not comparable —
 * the time taken, merging the per-format orders so that each stays intact.
 */
export function newestFirst(snapshots: readonly SnapshotSummary[]): SnapshotSummary[] {
  const lanes = new Map<string, SnapshotSummary[]>();
  for (const s of snapshots) lanes.set(s.format, [...(lanes.get(s.format) ?? []), s]);
  for (const lane of lanes.values()) lane.sort((a, b) => b.order - a.order || b.time.getTime() - a.time.getTime() || byNameDesc(a, b));
  const heads = [...lanes.values()];
  const out: SnapshotSummary[] = [];
  for (;;) {
    let best: SnapshotSummary[] | undefined;
    for (const lane of heads) {
      if (!lane.length) continue;
      if (!best || lane[0]!.time.getTime() > best[0]!.time.getTime() || (lane[0]!.time.getTime() === best[0]!.time.getTime() && byNameDesc(lane[0]!, best[0]!) < 0)) best = lane;
    }
    if (!best) return out;
    out.push(best.shift()!);
  }
}

export async function listCatalog(formats: readonly StorageFormat[]): Promise<Catalog> {
  const listings = await Promise.all(formats.map((f) => f.list()));
  return {
    snapshots: newestFirst(listings.flatMap((l) => l.snapshots)),
    damaged: listings.flatMap((l) => l.damaged),
    leftovers: listings.flatMap((l) => l.leftovers),
  };
}

/** The group's snapshots (this product's), newest first. */
export function inGroup(catalog: Catalog, group: Group): SnapshotSummary[] {
  return catalog.snapshots.filter((s) => s.managed && s.group === group.key);
}

/** Snapshots this product did not write (the older plugin's), newest first. */
export const unmanaged = (catalog: Catalog) => catalog.snapshots.filter((s) => !s.managed);

const describe = (s: SnapshotSummary) => `${s.shortId} ${s.name}${s.host ? ` (${s.host}${s.agent ? `, agent ${s.agent}` : ""})` : ""}`;

/**
 * The snapshot a command was given: `latest` (or nothing) is the newest of this install's group — or, when no
 * snapshot of this product exists at all, the newest of the older plugin's; the full name (or its manifest's name)
 * or a unique prefix of the ID names any snapshot in the folder. An ambiguous prefix is a usage error listing the
 * candidates; a damaged snapshot is an error saying what is wrong with it.
 */
export function resolveSnapshot(catalog: Catalog, wanted: string | undefined, group: Group): SnapshotSummary {
  if (!wanted || wanted === "latest") {
    const own = inGroup(catalog, group)[0];
    if (own) return own;
    const managed = catalog.snapshots.filter((s) => s.managed);
    if (!managed.length && unmanaged(catalog)[0]) return unmanaged(catalog)[0]!;
    const damaged = catalog.damaged.filter((d) => d.group === group.key);
    if (damaged.length) throw new OperationError(`this install's group holds no intact snapshot; damaged: ${damaged.map((d) => `${d.name} (${d.problem})`).join(", ")}`);
    if (managed.length) {
      const hosts = [...new Set(managed.map((s) => s.host))].join(", ");
      throw new OperationError(
        `no snapshot of this install's group (host ${group.host}, paths ${group.paths.join(", ")}) yet; the folder holds ${managed.length} snapshot(s) of other groups ` +
          `(hosts: ${hosts}): name one by its ID or name (\`workspace-sync backup list --all\` shows them), or run \`workspace-sync backup now\``,
      );
    }
    if (catalog.damaged.length) throw new OperationError(`the folder holds no intact snapshot; damaged: ${catalog.damaged.map((d) => `${d.name} (${d.problem})`).join(", ")}`);
    throw new OperationError("the folder holds no snapshots yet (run `workspace-sync backup now`)");
  }
  const name = wanted.endsWith(".manifest.json") ? wanted.slice(0, -".manifest.json".length) : wanted;
  const named = catalog.snapshots.find((s) => s.name === name);
  if (named) return named;
  const damagedNamed = catalog.damaged.find((d) => d.name === name);
  if (damagedNamed) throw new OperationError(`snapshot ${damagedNamed.name} is damaged: ${damagedNamed.problem}`);
  if (/^[0-9a-f]+$/i.test(wanted)) {
    const prefix = wanted.toLowerCase();
    const hits = catalog.snapshots.filter((s) => s.id.startsWith(prefix));
    const damagedHits = catalog.damaged.filter((d) => d.id?.startsWith(prefix));
    if (hits.length + damagedHits.length > 1) {
      const all = [...hits.map(describe), ...damagedHits.map((d) => `${d.shortId} ${d.name} (damaged)`)];
      throw new UsageError(`snapshot ID prefix ${wanted} is ambiguous: it matches ${all.join("; ")} — give more of the ID`);
    }
    if (hits[0]) return hits[0];
    if (damagedHits[0]) throw new OperationError(`snapshot ${damagedHits[0].name} is damaged: ${damagedHits[0].problem}`);
  }
  // A repository that cannot be opened (no password, no identity) hides its snapshots: say so, it is the likely cause.
  const unreadable = catalog.damaged.filter((d) => !d.id);
  const why = unreadable.length ? `; the folder also holds what cannot be read now: ${unreadable.map((d) => `${d.name} (${d.problem})`).join(", ")}` : "";
  throw new UsageError(`there is no snapshot ${wanted} (give an ID prefix, a name or "latest"; \`workspace-sync backup list --all\` shows them)${why}`);
}
