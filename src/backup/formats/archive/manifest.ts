// The manifest: a small JSON object written after the data object, so a snapshot exists only when complete.
// It carries what list/verify/restore need (the stored object's size and SHA-256, the format) and what a person
// needs (when, where from, which items, what was missing) — never a secret.
import type { BackupItem, Compression } from "../../../config/types.js";
import { parseOurName } from "./naming.js";

export const MANIFEST_FORMAT = "openclaw-workspace-sync/backup";
export const MANIFEST_VERSION = 1;

export type EncryptionInfo =
  | { scheme: "none" }
  | { scheme: "age"; recipientType: "scrypt" }
  | { scheme: "age"; recipientType: "x25519"; recipients: string[] };

export interface ManifestItem {
  item: BackupItem;
  /** Prefix of this item's entries inside the archive. */
  archivePath: string;
  /** Live location the entries came from (for the restore summary). */
  livePath: string;
  type: "dir" | "file";
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  snapshot: string;
  created: string;
  finished: string;
  host: string;
  agent: string;
  /**
   * The included live paths (with `host`, the snapshot's group: see src/backup/groups.ts). Absent in manifests
   * written before groups existed: listing.ts derives them from `roots`, `items` and `missing`.
   */
  paths?: string[];
  product: { name: string; version: string };
  /** Live roots of the archive prefixes: "workspace" → workspace dir, "state" → state dir, ... */
  roots: Record<string, string>;
  items: ManifestItem[];
  /** Included items that were not found at all (none of their locations exist). */
  missingItems: BackupItem[];
  /** Every looked-for location that does not exist. */
  missing: { item: BackupItem; livePath: string }[];
  /** Archive paths of the SQLite databases captured with the online backup API (not copied as files). */
  databases: string[];
  files: number;
  dirs: number;
  symlinks: number;
  /** Bytes of file contents archived (before compression). */
  bytes: number;
  stored: { size: number; sha256: string };
  compression: Compression;
  encryption: EncryptionInfo;
  /**
   * Commit order in the repository: one more than the highest sequence listed when this snapshot was written. "Newest"
   * (latest, retention) means highest sequence, then latest `created`: a host clock that was wrong when a snapshot
   * was taken cannot make an older snapshot pass for the newest. Absent in manifests written before it existed (0).
   */
  sequence?: number;
  /** Fingerprint of the live tree (paths, sizes, mtimes) for skipping unchanged scheduled backups. */
  fingerprint: string;
  warnings: string[];
}

/** One line of JSON: small, and a partial upload of it never parses. */
export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m)}\n`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Parses and checks a manifest for the given data object; undefined when it is not a valid one of ours. */
export function parseManifest(text: string, snapshot: string): Manifest | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(v) || v.format !== MANIFEST_FORMAT || v.version !== MANIFEST_VERSION || v.snapshot !== snapshot) return undefined;
  if (!parseOurName(snapshot)) return undefined;
  const stored = v.stored;
  if (!isObj(stored) || !isCount(stored.size) || typeof stored.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(stored.sha256)) return undefined;
  if (typeof v.created !== "string" || Number.isNaN(Date.parse(v.created))) return undefined;
  if (!Array.isArray(v.items) || !isObj(v.encryption) || !isObj(v.roots)) return undefined;
  if (!["zstd", "gzip", "none"].includes(v.compression as string)) return undefined;
  const enc = v.encryption;
  if (enc.scheme !== "none" && !(enc.scheme === "age" && (enc.recipientType === "scrypt" || enc.recipientType === "x25519"))) return undefined;
  if (![v.files, v.dirs, v.symlinks, v.bytes].every(isCount)) return undefined;
  if (v.sequence !== undefined && !isCount(v.sequence)) return undefined;
  if (v.paths !== undefined && !(Array.isArray(v.paths) && v.paths.every((p) => typeof p === "string"))) return undefined;
  return v as unknown as Manifest;
}
