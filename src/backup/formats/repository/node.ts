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

const ID = /^[0-9a-fA-F]{64}$/;
const KNOWN_FIELDS: ReadonlySet<string> = new Set(FIELD_ORDER);

/** Decodes one node object (already parsed with parseGoJson) as restic's Node.UnmarshalJSON does. */
export function decodeNode(raw: unknown): Node {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new NodeDecodeError("tree node is not a JSON object");
  const obj = raw as Record<string, unknown>;
  // Go matches keys exactly first, then case-insensitively; only a key that is not a field name needs the second.
  let byLower: Map<string, string> | undefined;
  for (const k in obj) {
    if (!KNOWN_FIELDS.has(k)) {
      byLower = new Map();
      for (const key of Object.keys(obj)) if (!byLower.has(key.toLowerCase())) byLower.set(key.toLowerCase(), key);
      break;
    }
  }
  const get = (field: (typeof FIELD_ORDER)[number]): unknown => {
    if (Object.hasOwn(obj, field)) return obj[field];
    const k = byLower?.get(field);
    return k === undefined ? undefined : obj[k];
  };
  const where = () => `node ${JSON.stringify(typeof obj.name === "string" ? obj.name : "?")}`;
  const str = (field: (typeof FIELD_ORDER)[number]): string | undefined => {
    const v = get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new NodeDecodeError(`${where()}: ${field} is not a string`);
    return v;
  };
  const uint = (field: (typeof FIELD_ORDER)[number], bits: 32 | 64): bigint | undefined => {
    const v = get(field);
    if (v === undefined || v === null) return undefined;
    const big = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined;
    if (big === undefined || big < 0n || big >= 1n << BigInt(bits)) throw new NodeDecodeError(`${where()}: ${field} is not a uint${bits}`);
    return big;
  };
  const time = (field: "mtime" | "atime" | "ctime"): GoTime => {
    const v = str(field);
    return v === undefined ? GO_ZERO_TIME : parseRfc3339(v);
  };
  const id = (v: unknown, field: string): string => {
    if (typeof v !== "string" || !ID.test(v)) throw new NodeDecodeError(`${where()}: ${field} has an invalid ID`);
    return v.toLowerCase();
  };

  const quotedName = str("name") ?? "";
  const node: Node = {
    name: goUnquote(quotedName),
    type: str("type") ?? "",
    mode: Number(uint("mode", 32) ?? 0n),
    mtime: time("mtime"),
    atime: time("atime"),
    ctime: time("ctime"),
    uid: Number(uint("uid", 32) ?? 0n),
    gid: Number(uint("gid", 32) ?? 0n),
    content: null,
  };
  const optional = { user: str("user"), group: str("group"), error: str("error") };
  if (optional.user) node.user = optional.user;
  if (optional.group) node.group = optional.group;
  const numbers = { inode: uint("inode", 64), deviceId: uint("device_id", 64), size: uint("size", 64), links: uint("links", 64), device: uint("device", 64) };
  for (const [k, v] of Object.entries(numbers)) if (v !== undefined && v !== 0n) (node as unknown as Record<string, bigint>)[k] = v;

  const raw64 = str("linktarget_raw");
  const target = str("linktarget");
  if (raw64 !== undefined) node.linkTarget = new Uint8Array(Buffer.from(raw64, "base64"));
  else if (target) node.linkTarget = new Uint8Array(Buffer.from(target, "utf8"));

  const xattrs = get("extended_attributes");
  if (Array.isArray(xattrs) && xattrs.length > 0) {
    node.extendedAttributes = xattrs.map((a) => {
      const e = (a ?? {}) as Record<string, unknown>;
      const value = e.value ?? e.Value;
      if (value !== null && value !== undefined && typeof value !== "string") throw new NodeDecodeError(`${where()}: extended attribute value is not base64`);
      return { name: typeof (e.name ?? e.Name) === "string" ? String(e.name ?? e.Name) : "", value: typeof value === "string" ? new Uint8Array(Buffer.from(value, "base64")) : null };
    });
  } else if (xattrs !== undefined && xattrs !== null && !Array.isArray(xattrs)) {
    throw new NodeDecodeError(`${where()}: extended_attributes is not an array`);
  }
  const generic = get("generic_attributes");
  if (generic && typeof generic === "object" && !Array.isArray(generic) && Object.keys(generic).length > 0) node.genericAttributes = generic as Record<string, unknown>;

  const content = get("content");
  if (Array.isArray(content)) node.content = content.map((c) => id(c, "content"));
  else if (content !== undefined && content !== null) throw new NodeDecodeError(`${where()}: content is not an array`);
  const subtree = get("subtree");
  if (subtree !== undefined && subtree !== null) node.subtree = id(subtree, "subtree");
  if (optional.error) node.error = optional.error;
  return node;
}
