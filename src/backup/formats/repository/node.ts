// A tree node exactly as restic encodes it (restic 0.14 internal/restic/node.go; HEAD internal/data/node.go): field
// order, Go's omitempty rules, Go-quoted names, RFC 3339 times in the zone they were made in, uint64 numbers kept
// exact. Decoding accepts what any restic version writes (HEAD's linktarget_raw and generic_attributes, null
// extended-attribute values, unknown fields, Go's case-insensitive keys).
import { decodeRune, goQuote, goUnquote } from "./go-quote.js";
import { goJsonString, goUint } from "./go-json.js";
import { GO_ZERO_TIME, type GoTime, fixTime, formatRfc3339Nano, parseRfc3339 } from "./go-time.js";

export type NodeType = "file" | "dir" | "symlink" | "dev" | "chardev" | "fifo" | "socket";
export const NODE_TYPES: readonly string[] = ["file", "dir", "symlink", "dev", "chardev", "fifo", "socket"];

/** Go os.FileMode bits restic stores in `mode` (restic#3725: not POSIX st_mode). */
export const GoMode = {
  perm: 0o777,
  dir: 2 ** 31,
  symlink: 1 << 27,
  device: 1 << 26,
  namedPipe: 1 << 25,
  socket: 1 << 24,
  setuid: 1 << 23,
  setgid: 1 << 22,
  charDevice: 1 << 21,
  sticky: 1 << 20,
  irregular: 1 << 19,
} as const;

export interface ExtendedAttribute {
  name: string;
  /** null where the JSON has null (Go's nil []byte; rustic #638). */
  value: Uint8Array | null;
}

export interface Node {
  /** The name's raw bytes (Linux names are bytes; restic quotes them with strconv.Quote). */
  name: Uint8Array;
  /** One of NODE_TYPES for anything restic writes; other strings survive a decode/encode round trip. */
  type: NodeType | (string & {});
  /** Go os.FileMode bits (GoMode); 0 is left out of the JSON (and restic then restores permissions 000). */
  mode: number;
  mtime: GoTime;
  atime: GoTime;
  ctime: GoTime;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  inode?: bigint;
  deviceId?: bigint;
  size?: bigint;
  links?: bigint;
  /** Symlink target bytes. Written as `linktarget`, plus `linktarget_raw` when not valid UTF-8 (restic >= 0.17). */
  linkTarget?: Uint8Array;
  extendedAttributes?: ExtendedAttribute[];
  /** Windows attributes of newer restic, kept as parsed JSON values to write them back. */
  genericAttributes?: Record<string, unknown>;
  device?: bigint;
  /** Data blob IDs of a file ([] for an empty file); null for every other type. */
  content: string[] | null;
  subtree?: string | null;
  error?: string;
}

export class NodeDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NodeDecodeError";
  }
}

const FIELD_ORDER = [
  "name",
  "type",
  "mode",
  "mtime",
  "atime",
  "ctime",
  "uid",
  "gid",
  "user",
  "group",
  "inode",
  "device_id",
  "size",
  "links",
  "linktarget",
  "linktarget_raw",
  "extended_attributes",
  "generic_attributes",
  "device",
  "content",
  "subtree",
  "error",
] as const;

function isValidUtf8(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; ) {
    const [r, w] = decodeRune(b, i);
    if (w === 1 && r === 0xfffd) return false;
    i += w;
  }
  return true;
}

const nonZero = (v: bigint | undefined): v is bigint => v !== undefined && v !== 0n;

/** Go's json.Marshal of the node (no trailing newline), as restic's TreeJSONBuilder adds it to a tree. */
export function encodeNode(node: Node): string {
  const parts: string[] = [];
  parts.push(`"name":${goJsonString(goQuote(node.name))}`);
  parts.push(`"type":${goJsonString(node.type)}`);
  if (node.mode !== 0) parts.push(`"mode":${node.mode >>> 0}`);
  parts.push(`"mtime":"${formatRfc3339Nano(fixTime(node.mtime))}"`);
  parts.push(`"atime":"${formatRfc3339Nano(fixTime(node.atime))}"`);
  parts.push(`"ctime":"${formatRfc3339Nano(fixTime(node.ctime))}"`);
  parts.push(`"uid":${node.uid >>> 0}`);
  parts.push(`"gid":${node.gid >>> 0}`);
  if (node.user) parts.push(`"user":${goJsonString(node.user)}`);
  if (node.group) parts.push(`"group":${goJsonString(node.group)}`);
  if (nonZero(node.inode)) parts.push(`"inode":${goUint(node.inode)}`);
  if (nonZero(node.deviceId)) parts.push(`"device_id":${goUint(node.deviceId)}`);
  if (nonZero(node.size)) parts.push(`"size":${goUint(node.size)}`);
  if (nonZero(node.links)) parts.push(`"links":${goUint(node.links)}`);
  if (node.linkTarget && node.linkTarget.length > 0) {
    parts.push(`"linktarget":${goJsonString(node.linkTarget)}`);
    if (!isValidUtf8(node.linkTarget)) parts.push(`"linktarget_raw":"${Buffer.from(node.linkTarget).toString("base64")}"`);
  }
  if (node.extendedAttributes && node.extendedAttributes.length > 0) {
    const attrs = node.extendedAttributes.map((a) => `{"name":${goJsonString(a.name)},"value":${a.value === null ? "null" : `"${Buffer.from(a.value).toString("base64")}"`}}`);
    parts.push(`"extended_attributes":[${attrs.join(",")}]`);
  }
  if (node.genericAttributes && Object.keys(node.genericAttributes).length > 0) {
    // Go writes map keys sorted by their bytes.
    const keys = Object.keys(node.genericAttributes).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    parts.push(`"generic_attributes":{${keys.map((k) => `${goJsonString(k)}:${JSON.stringify(node.genericAttributes![k], (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`).join(",")}}`);
  }
  if (nonZero(node.device)) parts.push(`"device":${goUint(node.device)}`);
  parts.push(`"content":${node.content === null ? "null" : `[${node.content.map((id) => `"${id}"`).join(",")}]`}`);
  if (node.subtree) parts.push(`"subtree":"${node.subtree}"`);
  if (node.error) parts.push(`"error":${goJsonString(node.error)}`);
  return `{${parts.join(",")}}`;
}

/**
 * Whether two nodes encode to the same bytes, decided without encoding them (equal fields; a time equal in instant
 * and offset). Extended and generic attributes are never compared: a node that has any counts as different, which
 * only costs an encoding.
 */
export function sameNode(a: Node, b: Node): boolean {
  if (a === b) return true;
  return (
    a.type === b.type &&
    a.mode >>> 0 === b.mode >>> 0 &&
    a.uid >>> 0 === b.uid >>> 0 &&
    a.gid >>> 0 === b.gid >>> 0 &&
    sameTime(a.mtime, b.mtime) &&
    sameTime(a.atime, b.atime) &&
    sameTime(a.ctime, b.ctime) &&
    (a.user || "") === (b.user || "") &&
    (a.group || "") === (b.group || "") &&
    (a.inode ?? 0n) === (b.inode ?? 0n) &&
    (a.deviceId ?? 0n) === (b.deviceId ?? 0n) &&
    (a.size ?? 0n) === (b.size ?? 0n) &&
    (a.links ?? 0n) === (b.links ?? 0n) &&
    (a.device ?? 0n) === (b.device ?? 0n) &&
    (a.subtree || "") === (b.subtree || "") &&
    (a.error || "") === (b.error || "") &&
    !a.extendedAttributes?.length &&
    !b.extendedAttributes?.length &&
    !hasKeys(a.genericAttributes) &&
    !hasKeys(b.genericAttributes) &&
    sameBytes(a.name, b.name) &&
    sameBytes(a.linkTarget ?? EMPTY, b.linkTarget ?? EMPTY) &&
    sameContent(a.content, b.content)
  );
}

/**
 * A string that is equal for two nodes exactly when sameNode() holds for them with equal content: every field that
 * reaches the tree's bytes but the content list. undefined for a node with attributes sameNode() does not compare
 * (extended or generic attributes: never made from lstat). The archiver digests a folder's children with it
 * (folder records: a folder whose digest equals its last run's keeps that run's tree unread).
 */
export function nodeKey(node: Node): string | undefined {
  if (node.extendedAttributes?.length || hasKeys(node.genericAttributes)) return undefined;
  return `${bytesKey(node.name)}\0${node.type}\0${node.mode >>> 0}\0${node.uid >>> 0}\0${node.gid >>> 0}\0${timeKey(node.mtime)}\0${timeKey(node.atime)}\0${timeKey(node.ctime)}\0${node.user || ""}\0${node.group || ""}\0${node.inode ?? 0n}\0${node.deviceId ?? 0n}\0${node.size ?? 0n}\0${node.links ?? 0n}\0${node.device ?? 0n}\0${node.subtree || ""}\0${node.error || ""}\0${bytesKey(node.linkTarget ?? EMPTY)}`;
}

const timeKey = (t: GoTime) => `${t.sec}.${t.nsec}${t.offset >= 0 ? "+" : ""}${t.offset}`;
/** Bytes as one char each (reversible, no decoding), length first (a name may hold any byte but NUL and "/"). */
const bytesKey = (b: Uint8Array) => `${b.length}:${b.length <= 4096 ? String.fromCharCode(...b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1")}`;

const EMPTY = new Uint8Array(0);
const sameTime = (x: GoTime, y: GoTime) => x === y || (x.sec === y.sec && x.nsec === y.nsec && x.offset === y.offset);
const sameBytes = (x: Uint8Array, y: Uint8Array) => x === y || (x.length === y.length && Buffer.compare(x, y) === 0);
const hasKeys = (o: Record<string, unknown> | undefined) => o !== undefined && Object.keys(o).length > 0;

function sameContent(x: readonly string[] | null, y: readonly string[] | null): boolean {
  if (x === y) return true;
  if (x === null || y === null || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const ID = /^[0-9a-fA-F]{64}$/;
const KNOWN_FIELDS: ReadonlySet<string> = new Set(FIELD_ORDER);

type Field = (typeof FIELD_ORDER)[number];
type Fields = Readonly<Record<string, unknown>>;
const UINT64_END = 1n << 64n;

/**
 * The object's values under restic's field names: Go matches a key exactly first, then case-insensitively. Only an
 * object with a key that is not a field name needs the second (a tree written by restic never does).
 */
function goFields(obj: Record<string, unknown>): Fields {
  for (const k in obj) {
    if (KNOWN_FIELDS.has(k)) continue;
    const byLower = new Map<string, string>();
    for (const key of Object.keys(obj)) if (!byLower.has(key.toLowerCase())) byLower.set(key.toLowerCase(), key);
    const fields: Record<string, unknown> = {};
    for (const f of FIELD_ORDER) {
      const key = Object.hasOwn(obj, f) ? f : byLower.get(f);
      if (key !== undefined) fields[f] = obj[key];
    }
    return fields;
  }
  return obj;
}

const where = (f: Fields) => `node ${JSON.stringify(typeof f.name === "string" ? f.name : "?")}`;

function str(f: Fields, field: Field): string | undefined {
  const v = f[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new NodeDecodeError(`${where(f)}: ${field} is not a string`);
  return v;
}

function uint32(f: Fields, field: Field): number {
  const v = f[field];
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  throw new NodeDecodeError(`${where(f)}: ${field} is not a uint32`);
}

/** A uint64 field, or undefined when absent or zero (the node leaves zeros out). */
function uint64(f: Fields, field: Field): bigint | undefined {
  const v = f[field];
  if (v === undefined || v === null || v === 0) return undefined;
  const big = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined;
  if (big === undefined || big < 0n || big >= UINT64_END) throw new NodeDecodeError(`${where(f)}: ${field} is not a uint64`);
  return big === 0n ? undefined : big;
}

function time(f: Fields, field: "mtime" | "atime" | "ctime"): GoTime {
  const v = str(f, field);
  return v === undefined ? GO_ZERO_TIME : parseRfc3339(v);
}

function blobId(f: Fields, v: unknown, field: string): string {
  if (typeof v !== "string" || !ID.test(v)) throw new NodeDecodeError(`${where(f)}: ${field} has an invalid ID`);
  return v.toLowerCase();
}

/** Decodes one node object (already parsed with parseGoJson) as restic's Node.UnmarshalJSON does. */
export function decodeNode(raw: unknown): Node {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new NodeDecodeError("tree node is not a JSON object");
  const f = goFields(raw as Record<string, unknown>);
  const mtime = time(f, "mtime");
  // Trees carry atime = mtime (restic's default): one parse, one object, as a node made from lstat has.
  const atime = f.atime === f.mtime && f.atime !== undefined ? mtime : time(f, "atime");
  const node: Node = {
    name: goUnquote(str(f, "name") ?? ""),
    type: str(f, "type") ?? "",
    mode: uint32(f, "mode"),
    mtime,
    atime,
    ctime: time(f, "ctime"),
    uid: uint32(f, "uid"),
    gid: uint32(f, "gid"),
    content: null,
  };
  const user = str(f, "user");
  const group = str(f, "group");
  const error = str(f, "error");
  if (user) node.user = user;
  if (group) node.group = group;
  const inode = uint64(f, "inode");
  const deviceId = uint64(f, "device_id");
  const size = uint64(f, "size");
  const links = uint64(f, "links");
  const device = uint64(f, "device");
  if (inode !== undefined) node.inode = inode;
  if (deviceId !== undefined) node.deviceId = deviceId;
  if (size !== undefined) node.size = size;
  if (links !== undefined) node.links = links;
  if (device !== undefined) node.device = device;

  const raw64 = str(f, "linktarget_raw");
  const target = str(f, "linktarget");
  if (raw64 !== undefined) node.linkTarget = new Uint8Array(Buffer.from(raw64, "base64"));
  else if (target) node.linkTarget = new Uint8Array(Buffer.from(target, "utf8"));

  const xattrs = f.extended_attributes;
  if (Array.isArray(xattrs) && xattrs.length > 0) {
    node.extendedAttributes = xattrs.map((a) => {
      const e = (a ?? {}) as Record<string, unknown>;
      const value = e.value ?? e.Value;
      if (value !== null && value !== undefined && typeof value !== "string") throw new NodeDecodeError(`${where(f)}: extended attribute value is not base64`);
      return { name: typeof (e.name ?? e.Name) === "string" ? String(e.name ?? e.Name) : "", value: typeof value === "string" ? new Uint8Array(Buffer.from(value, "base64")) : null };
    });
  } else if (xattrs !== undefined && xattrs !== null && !Array.isArray(xattrs)) {
    throw new NodeDecodeError(`${where(f)}: extended_attributes is not an array`);
  }
  const generic = f.generic_attributes;
  if (generic && typeof generic === "object" && !Array.isArray(generic) && Object.keys(generic).length > 0) node.genericAttributes = generic as Record<string, unknown>;

  const content = f.content;
  if (Array.isArray(content)) {
    const ids: string[] = new Array(content.length);
    for (let i = 0; i < content.length; i++) ids[i] = blobId(f, content[i], "content");
    node.content = ids;
  } else if (content !== undefined && content !== null) throw new NodeDecodeError(`${where(f)}: content is not an array`);
  const subtree = f.subtree;
  if (subtree !== undefined && subtree !== null) node.subtree = blobId(f, subtree, "subtree");
  if (error) node.error = error;
  return node;
}
