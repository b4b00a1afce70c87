// Formatting shared by every surface (CLI, plugin log lines and slash replies, the setup wizard): sizes, durations,
// bounded name lists. Plain text only; nothing here knows about terminals.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.5 KiB" (binary units, like rclone and restic). */
export function formatBytes(bytes: number): string {
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${UNITS[i]}`;
}

/** 1530 → "1.5s", 125000 → "2m05s", 7260000 → "2h01m". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Names joined with ", ", cut after `max` with the count of the rest. */
export function nameList(names: readonly string[], max = 50): string {
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}

/** A repository snapshot's name: its whole ID (an archive's is a file name). */
export const isSnapshotId = (name: string): boolean => /^[0-9a-f]{64}$/.test(name);

/**
 * A snapshot as people read it. A repository snapshot is named by its ID: its short ID alone, as restic shows it and
 * every command takes it (--json has the whole ID). An archive snapshot by its file name, with the short ID in
 * `wrap` (e.g. "[…]") when there is one.
 */
export function snapshotLabel(name: string, shortId: string | undefined, wrap: (id: string) => string = (id) => `[${id}]`): string {
  if (isSnapshotId(name)) return shortId ?? name.slice(0, 8);
  return shortId ? `${name} ${wrap(shortId)}` : name;
}
