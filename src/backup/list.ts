// `backup list`: the folder's complete snapshots of every format, newest first — by default this install's group
// (host + included paths), `--all` every group, `--host`/`--agent` a chosen one — the older plugin's snapshots apart,
// damaged ones, and counts of leftovers (this install's interrupted runs) and of look-alikes it leaves alone.
import { type Catalog, listCatalog, unmanaged } from "./catalog.js";
import type { SnapshotSummary } from "./formats/format.js";
import { type Formats, withFormats } from "./formats/index.js";
import { installGroup } from "./groups.js";
import type { BackupJob } from "./job.js";
import { cleanupPlan } from "./prune.js";

export interface ListOptions {
  all?: boolean;
  host?: string;
  agent?: string;
}

export interface ListedSnapshot {
  id: string;
  short_id: string;
  name: string;
  format: string;
  created: string;
  host: string;
  agent: string;
  paths: string[];
  /** The group's key (8 hex digits shown). */
  group: string;
  files?: number;
  bytes?: number;
  storedBytes?: number;
  encryption: string;
  items: string[];
  missing: string[];
}

export interface SnapshotList {
  repository: string;
  /** This install's group. */
  group: { key: string; host: string; paths: string[] };
  /** What is shown: "group" (this install's), "all", or the --host/--agent filter. */
  showing: { scope: "group" | "all" | "filter"; host?: string; agent?: string };
  snapshots: ListedSnapshot[];
  /** The older plugin's snapshots. */
  legacy: { id: string; short_id: string; name: string; time: string; storedBytes: number; encrypted: boolean }[];
  damaged: { name: string; id?: string; short_id?: string; problem: string }[];
  /** Snapshots of other groups not shown (`--all` shows them). */
  hidden: number;
  /** Objects of this install's interrupted runs (the next backup or prune removes them). */
  leftovers: number;
  /** Objects named like snapshots that no run of this install recorded: never touched. */
  foreign: number;
}

const listed = (s: SnapshotSummary): ListedSnapshot => ({
  id: s.id,
  short_id: s.shortId,
  name: s.name,
  format: s.format,
  created: s.time.toISOString(),
  host: s.host,
  agent: s.agent,
  paths: s.paths,
  group: s.group.slice(0, 8),
  ...(s.files !== undefined ? { files: s.files } : {}),
  ...(s.bytes !== undefined ? { bytes: s.bytes } : {}),
  ...(s.storedBytes !== undefined ? { storedBytes: s.storedBytes } : {}),
  encryption: s.encryption,
  items: s.items,
  missing: s.missingItems,
});

export function selectListed(catalog: Catalog, groupKey: string, opts: ListOptions): { shown: SnapshotSummary[]; hidden: number } {
  const managed = catalog.snapshots.filter((s) => s.managed);
  const filtered = opts.host !== undefined || opts.agent !== undefined;
  const keep = (s: SnapshotSummary) =>
    filtered ? (opts.host === undefined || s.host === opts.host) && (opts.agent === undefined || s.agent === opts.agent) : opts.all || s.group === groupKey;
  const shown = managed.filter(keep);
  return { shown, hidden: managed.length - shown.length };
}

export function listSnapshots(job: BackupJob, opts: ListOptions = {}): Promise<SnapshotList> {
  return withFormats(job, (formats) => listSnapshotsWith(job, formats, opts));
}

async function listSnapshotsWith(job: BackupJob, formats: Formats, opts: ListOptions = {}): Promise<SnapshotList> {
  const catalog = await listCatalog(formats.all);
  const group = installGroup(job);
  const { shown, hidden } = selectListed(catalog, group.key, opts);
  const filtered = opts.host !== undefined || opts.agent !== undefined;
  const plan = await cleanupPlan(job, catalog);
  return {
    repository: job.remote.display,
    group: { key: group.key.slice(0, 8), host: group.host, paths: group.paths },
    showing: filtered ? { scope: "filter", ...(opts.host !== undefined ? { host: opts.host } : {}), ...(opts.agent !== undefined ? { agent: opts.agent } : {}) } : { scope: opts.all ? "all" : "group" },
    snapshots: shown.map(listed),
    legacy: filtered
      ? []
      : unmanaged(catalog).map((l) => ({ id: l.id, short_id: l.shortId, name: l.name, time: l.time.toISOString(), storedBytes: l.storedBytes ?? 0, encrypted: l.encryption !== "none" })),
    damaged: catalog.damaged
      .filter((d) => opts.all || filtered || !d.group || d.group === group.key)
      .map((d) => ({ name: d.name, ...(d.id ? { id: d.id, short_id: d.shortId } : {}), problem: d.problem })),
    hidden,
    leftovers: plan.remove.length + plan.wait.length,
    foreign: plan.foreign.length,
  };
}
