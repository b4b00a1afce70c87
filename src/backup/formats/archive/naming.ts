// Archive snapshot object names: `backup-YYYYMMDDTHHMMSSZ-<random>.<ext>`, sortable by time and unique within a
// second (random suffix). The older plugin's `backup-YYYYMMDDTHHMMSSZ.tar.gz[.enc]` (formats/legacy/naming.ts) never
// matches: a killed run of ours can never pass for a legacy snapshot, nor the reverse.
import { randomBytes } from "node:crypto";
import type { Compression } from "../../../config/types.js";
import { parseStamp, stampOf } from "../../stamp.js";

export const MANIFEST_SUFFIX = ".manifest.json";

const OURS = /^backup-(\d{8}T\d{6}Z)-([0-9a-f]{8})\.(tar(?:\.zst|\.gz)?(?:\.age)?)$/;

export interface OurName {
  kind: "ours";
  name: string;
  stamp: string;
  /** Time from the name (second precision). */
  time: Date;
  extension: string;
}

export function extensionFor(compression: Compression, encrypted: boolean): string {
  const comp = compression === "zstd" ? ".zst" : compression === "gzip" ? ".gz" : "";
  return `tar${comp}${encrypted ? ".age" : ""}`;
}

export function newSnapshotName(now: Date, compression: Compression, encrypted: boolean, taken: ReadonlySet<string> = new Set()): string {
  for (;;) {
    const name = `backup-${stampOf(now)}-${randomBytes(4).toString("hex")}.${extensionFor(compression, encrypted)}`;
    if (!taken.has(name)) return name;
  }
}

export function parseOurName(name: string): OurName | undefined {
  const m = OURS.exec(name);
  if (!m) return undefined;
  const time = parseStamp(m[1]!);
  if (Number.isNaN(time.getTime())) return undefined;
  return { kind: "ours", name, stamp: m[1]!, time, extension: m[3]! };
}

export function manifestNameFor(snapshot: string): string {
  return `${snapshot}${MANIFEST_SUFFIX}`;
}

/** The data object a manifest name belongs to, if it is one of ours. */
export function snapshotOfManifest(name: string): string | undefined {
  if (!name.endsWith(MANIFEST_SUFFIX)) return undefined;
  const base = name.slice(0, -MANIFEST_SUFFIX.length);
  return parseOurName(base) ? base : undefined;
}

/** Compression and encryption as the extension states them. */
export function formatOfExtension(extension: string): { compression: Compression; encrypted: boolean } {
  return {
    compression: extension.includes(".zst") ? "zstd" : extension.includes(".gz") ? "gzip" : "none",
    encrypted: extension.endsWith(".age"),
  };
}
