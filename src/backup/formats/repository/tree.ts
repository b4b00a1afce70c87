// Tree blobs exactly as restic's TreeJSONBuilder writes them (the same in 0.14 and HEAD): `{"nodes":[` + nodes joined
// by `,` + `]}\n`, nodes sorted by the raw bytes of their names, names unique and non-empty. The tree's ID is the
// sha256 of these bytes, so equal directories give equal IDs in restic and here.
import { createHash } from "node:crypto";
import { parseGoJson } from "./go-json.js";
import { GoUnquoteError } from "./go-quote.js";
import { GoTimeError } from "./go-time.js";
import { type Node, NodeDecodeError, decodeNode, encodeNode } from "./node.js";

export class TreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TreeError";
  }
}

export function compareNames(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Nodes in restic's order: by name bytes (Go string order), not by JS string order or locale. */
export function sortNodes(nodes: readonly Node[]): Node[] {
  return [...nodes].sort((a, b) => compareNames(a.name, b.name));
}

/**
 * The tree blob of a directory. Nodes are sorted here; an empty or repeated name is refused (restic's builder refuses
 * them too, and restic's lookups binary-search the names).
 */
export function encodeTree(nodes: readonly Node[]): Buffer {
  const sorted = sortNodes(nodes);
  const parts: string[] = [];
  let prev: Uint8Array | undefined;
  for (const node of sorted) {
    if (node.name.length === 0) throw new TreeError("a tree node has an empty name");
    if (prev && compareNames(prev, node.name) === 0) throw new TreeError(`two tree nodes are named ${JSON.stringify(Buffer.from(node.name).toString("utf8"))}`);
    prev = node.name;
    parts.push(encodeNode(node));
  }
  return Buffer.from(`{"nodes":[${parts.join(",")}]}\n`, "utf8");
}

/** A folder node's type as JSON text: a tree without these bytes holds no folder (decodeTree's foldersOnly). */
const DIR_VALUE = Buffer.from('"dir"');

export function treeId(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Decodes a tree blob's plaintext the way restic loads it (json.Unmarshal into Tree; unknown fields ignored). With
 * `foldersOnly`, only its folders: a tree whose bytes never hold `"dir"` has none (a folder node's type is that string,
 * however the writer spaced or spelt its keys) and is not parsed at all — most trees of a workspace are folders of
 * files, ~2–3 ms of text and JSON each at 500 files; a node whose `type` is plainly not "dir" is not decoded (a
 * restore's walk for the folders skips ~40 ms of decoding per 20,000 files); a node spelling its keys otherwise (Go's
 * decoder ignores their case) is decoded and then judged by its type. The blob itself was authenticated and its ID
 * checked when it was loaded; a tree that is not valid JSON still fails the walk that decodes it whole.
 */
export function decodeTree(bytes: Uint8Array, foldersOnly = false): Node[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length); // a view, no copy
  if (foldersOnly && text.indexOf(DIR_VALUE) < 0) return [];
  let doc: unknown;
  try {
    doc = parseGoJson(text.toString("utf8"));
  } catch (err) {
    throw new TreeError(`tree blob is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new TreeError("tree blob is not a JSON object");
  const obj = doc as Record<string, unknown>;
  const key = Object.hasOwn(obj, "nodes") ? "nodes" : Object.keys(obj).find((k) => k.toLowerCase() === "nodes");
  const nodes = key === undefined ? null : obj[key];
  if (nodes === null || nodes === undefined) return [];
  if (!Array.isArray(nodes)) throw new TreeError("tree blob: nodes is not an array");
  try {
    if (!foldersOnly) return nodes.map((n) => decodeNode(n));
    const out: Node[] = [];
    for (const n of nodes) {
      const type = typeof n === "object" && n !== null ? (n as { type?: unknown }).type : undefined;
      if (typeof type === "string" && type !== "dir") continue;
      const node = decodeNode(n);
      if (node.type === "dir") out.push(node);
    }
    return out;
  } catch (err) {
    if (err instanceof NodeDecodeError || err instanceof GoUnquoteError || err instanceof GoTimeError) throw new TreeError(`tree blob: ${err.message}`);
    throw err;
  }
}

/** The node of a tree with exactly this name (binary search: trees are sorted), or undefined. */
export function findNode(nodes: readonly Node[], name: Uint8Array): Node | undefined {
  let lo = 0;
  let hi = nodes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareNames(nodes[mid]!.name, name);
    if (c === 0) return nodes[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
