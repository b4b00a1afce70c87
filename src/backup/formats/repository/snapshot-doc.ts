// The snapshot document (plaintext of snapshots/<id>) as restic writes it with json.Marshal (no trailing newline):
// fields in Go struct order, omitempty ones left out, `tree` always present and `paths` written even when null.
// restic 0.14 writes up to `original`; 0.17+ adds `program_version` and `summary`. The reader accepts missing,
// extra and null fields (rustic broke on summary drift: rustic #1188).
import { goJsonString, goUint, parseGoJson } from "./go-json.js";
import { type GoTime, fixTime, formatRfc3339Nano, parseRfc3339 } from "./go-time.js";

export interface SnapshotSummary {
  backupStart?: GoTime;
  backupEnd?: GoTime;
  filesNew?: number;
  filesChanged?: number;
  filesUnmodified?: number;
  dirsNew?: number;
  dirsChanged?: number;
  dirsUnmodified?: number;
  dataBlobs?: number;
  treeBlobs?: number;
  dataAdded?: bigint;
  dataAddedPacked?: bigint;
  totalFilesProcessed?: number;
  totalBytesProcessed?: bigint;
}

export interface SnapshotDoc {
  time: GoTime;
  parent?: string;
  tree: string;
  paths: string[] | null;
  hostname?: string;
  username?: string;
  uid?: number;
  gid?: number;
  excludes?: string[];
  tags?: string[];
  original?: string;
  programVersion?: string;
  summary?: SnapshotSummary;
}

export class SnapshotDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotDecodeError";
  }
}

const SUMMARY_FIELDS: Array<[keyof SnapshotSummary, string, "time" | "uint" | "uint64"]> = [
  ["backupStart", "backup_start", "time"],
  ["backupEnd", "backup_end", "time"],
  ["filesNew", "files_new", "uint"],
  ["filesChanged", "files_changed", "uint"],
  ["filesUnmodified", "files_unmodified", "uint"],
  ["dirsNew", "dirs_new", "uint"],
  ["dirsChanged", "dirs_changed", "uint"],
  ["dirsUnmodified", "dirs_unmodified", "uint"],
  ["dataBlobs", "data_blobs", "uint"],
  ["treeBlobs", "tree_blobs", "uint"],
  ["dataAdded", "data_added", "uint64"],
  ["dataAddedPacked", "data_added_packed", "uint64"],
  ["totalFilesProcessed", "total_files_processed", "uint"],
  ["totalBytesProcessed", "total_bytes_processed", "uint64"],
];

const strList = (v: string[]) => `[${v.map((s) => goJsonString(s)).join(",")}]`;
const time = (t: GoTime) => `"${formatRfc3339Nano(fixTime(t))}"`;

/** json.Marshal(snapshot) as restic writes it. */
export function encodeSnapshot(s: SnapshotDoc): string {
  const p: string[] = [`"time":${time(s.time)}`];
  if (s.parent) p.push(`"parent":"${s.parent}"`);
  p.push(`"tree":"${s.tree}"`);
  p.push(`"paths":${s.paths === null ? "null" : strList(s.paths)}`);
  if (s.hostname) p.push(`"hostname":${goJsonString(s.hostname)}`);
  if (s.username) p.push(`"username":${goJsonString(s.username)}`);
  if (s.uid) p.push(`"uid":${s.uid >>> 0}`);
  if (s.gid) p.push(`"gid":${s.gid >>> 0}`);
  if (s.excludes && s.excludes.length > 0) p.push(`"excludes":${strList(s.excludes)}`);
  if (s.tags && s.tags.length > 0) p.push(`"tags":${strList(s.tags)}`);
  if (s.original) p.push(`"original":"${s.original}"`);
  if (s.programVersion) p.push(`"program_version":${goJsonString(s.programVersion)}`);
  if (s.summary) {
    const zero: GoTime = { sec: -62135596800, nsec: 0, offset: 0 };
    const fields = SUMMARY_FIELDS.map(([key, json, kind]) => {
      const v = s.summary![key];
      if (kind === "time") return `"${json}":${time((v as GoTime | undefined) ?? zero)}`;
      return `"${json}":${goUint((v as number | bigint | undefined) ?? 0)}`;
    });
    p.push(`"summary":{${fields.join(",")}}`);
  }
  return `{${p.join(",")}}`;
}

const ID = /^[0-9a-fA-F]{64}$/;

/** Decodes a snapshot document as restic does (json.Unmarshal into Snapshot); `tree` must be an ID. */
export function decodeSnapshot(input: string | Uint8Array): SnapshotDoc {
  const text = typeof input === "string" ? input : Buffer.from(input.buffer, input.byteOffset, input.length).toString("utf8");
  let doc: unknown;
  try {
    doc = parseGoJson(text);
  } catch (err) {
    throw new SnapshotDecodeError(`snapshot is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new SnapshotDecodeError("snapshot is not a JSON object");
  const obj = doc as Record<string, unknown>;
  const lower = new Map(Object.keys(obj).map((k) => [k.toLowerCase(), k] as const));
  const get = (o: Record<string, unknown>, key: string, l = lower) => (Object.hasOwn(o, key) ? o[key] : o[l.get(key) ?? ""]);
  const str = (key: string): string | undefined => {
    const v = get(obj, key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new SnapshotDecodeError(`snapshot: ${key} is not a string`);
    return v;
  };
  const id = (key: string): string | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (!ID.test(v)) throw new SnapshotDecodeError(`snapshot: ${key} is not a 64-hex-digit ID`);
    return v.toLowerCase();
  };
  const list = (key: string): string[] | undefined => {
    const v = get(obj, key);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new SnapshotDecodeError(`snapshot: ${key} is not a list of strings`);
    return v as string[];
  };
  const num = (o: Record<string, unknown>, key: string, l?: Map<string, string>): bigint | undefined => {
    const v = get(o, key, l);
    if (v === undefined || v === null) return undefined;
    if (typeof v === "bigint" && v >= 0n) return v;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return BigInt(v);
    throw new SnapshotDecodeError(`snapshot: ${key} is not a non-negative integer`);
  };
  const timeText = str("time");
  const tree = id("tree");
  if (!tree) throw new SnapshotDecodeError("snapshot has no tree");
  const s: SnapshotDoc = { time: timeText === undefined ? { sec: -62135596800, nsec: 0, offset: 0 } : parseRfc3339(timeText), tree, paths: list("paths") ?? null };
  const parent = id("parent");
  if (parent) s.parent = parent;
  const optionalStrings = { hostname: str("hostname"), username: str("username"), programVersion: str("program_version") };
  for (const [k, v] of Object.entries(optionalStrings)) if (v) (s as unknown as Record<string, string>)[k] = v;
  const uid = num(obj, "uid");
  const gid = num(obj, "gid");
  if (uid) s.uid = Number(uid);
  if (gid) s.gid = Number(gid);
  const excludes = list("excludes");
  const tags = list("tags");
  if (excludes && excludes.length > 0) s.excludes = excludes;
  if (tags && tags.length > 0) s.tags = tags;
  const original = id("original");
  if (original) s.original = original;
  const summary = get(obj, "summary");
  if (summary && typeof summary === "object" && !Array.isArray(summary)) {
    const so = summary as Record<string, unknown>;
    const sl = new Map(Object.keys(so).map((k) => [k.toLowerCase(), k] as const));
    const out: SnapshotSummary = {};
    for (const [key, json, kind] of SUMMARY_FIELDS) {
      if (kind === "time") {
        const v = get(so, json, sl);
        if (typeof v === "string") (out as Record<string, unknown>)[key] = parseRfc3339(v);
        continue;
      }
      let v: bigint | undefined;
      try {
        v = num(so, json, sl);
      } catch {
        v = undefined; // a newer writer's statistics must not make the snapshot unreadable
      }
      if (v !== undefined) (out as Record<string, unknown>)[key] = kind === "uint64" ? v : Number(v);
    }
    s.summary = out;
  }
  return s;
}
