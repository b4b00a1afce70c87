// Where an rclone path really points: the storage behind it and the folder on that storage. Aliases are followed to
// their target, local paths are resolved through symlinks (realpath of the deepest part that exists), and two
// sections that reach the same server or account (the sync remote and a backup block of its own) count as the same
// storage. The location rules (app/locations.ts) compare these, never the config's shape.
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { type ConfFile, type ConfSection, readConf } from "./conf-file.js";
import type { ResolvedRemote } from "./remotes.js";

export interface StorageLocation {
  /** "local" for a folder on this machine; otherwise an identity of the storage (backend type + server/account). */
  storage: string;
  /** Local: an absolute path. Elsewhere: the folder on the storage, "/"-separated ("" = its root). */
  path: string;
  /**
   * Names below `path` are transformed (crypt, compress, chunker): nothing can name a file there by its plain name,
   * and a location given in plain names inside it cannot be told apart.
   */
  transformed: boolean;
  /** Local, through an alias: the folder the alias names (below it the product may create folders). */
  anchor?: string;
}

/** Options that tell one server or account from another, per backend (what is not a secret or a tuning knob). */
const IDENTITY_KEYS = [
  "host",
  "port",
  "user",
  "url",
  "endpoint",
  "provider",
  "region",
  "account",
  "tenant",
  "drive_id",
  "root_folder_id",
  "team_drive",
  "project_number",
  "storage_account",
  "domain",
  "server",
  "share",
];
const DEFAULT_PORTS: Record<string, string> = { sftp: "22", ftp: "21", smb: "445" };
/** Backends that keep names as they are on the remote they wrap. */
const PASS_THROUGH = new Set(["alias", "hasher"]);
/** Backends that store other names than the ones they show. */
const TRANSFORMING = new Set(["crypt", "compress", "chunker"]);
const MAX_HOPS = 12;

/** realpath of the deepest part of `p` that exists, with the rest appended (a target may not exist yet). */
export function realpathish(p: string): string {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    if (existsSync(head)) {
      try {
        return path.join(realpathSync(head), ...tail);
      } catch {
        return abs;
      }
    }
    const parent = path.dirname(head);
    if (parent === head) return abs;
    tail.unshift(path.basename(head));
    head = parent;
  }
}

const joinFolder = (...parts: string[]) =>
  parts
    .flatMap((p) => p.split("/"))
    .filter((s) => s !== "" && s !== ".")
    .join("/");

interface Spec {
  /** Section name, or "" for an on-the-fly `:type,...:` remote or a plain local path. */
  name: string;
  inline: ConfSection;
  rest: string;
  local: boolean;
}

/** Splits an rclone path: "name:rest", "name,opt=v:rest", ":type,opt=v:rest", or a plain local path. */
function parseSpec(spec: string): Spec {
  const colon = spec.indexOf(":", spec.startsWith(":") ? 1 : 0);
  if (colon < 0 || spec.startsWith("/") || spec.startsWith(".")) return { name: "", inline: {}, rest: spec, local: true };
  const head = spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  const [first = "", ...params] = head.split(",");
  const inline: ConfSection = {};
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq > 0) inline[p.slice(0, eq).trim()] = p.slice(eq + 1).trim().replace(/^["']|["']$/g, "");
  }
  if (first.startsWith(":")) return { name: "", inline: { type: first.slice(1), ...inline }, rest, local: false };
  return { name: first, inline, rest, local: false };
}

function identity(section: ConfSection): string {
  const type = section.type ?? "unknown";
  const parts = [type];
  for (const k of IDENTITY_KEYS) {
    let v = section[k];
    if (k === "port" && v === undefined) v = DEFAULT_PORTS[type];
    if (v === undefined || v === "") continue;
    if (k === "url" || k === "endpoint") v = v.replace(/\/+$/, "").toLowerCase();
    parts.push(`${k}=${v}`);
  }
  return parts.join("|");
}

/**
 * Resolves an rclone path through the given sections (the product's, not yet written) and the rclone.conf file.
 * Unknown sections are their own storage (never "the same" as anything else).
 */
export function locatePath(rclonePath: string, sections: Record<string, ConfSection>, file: ConfFile, configPath = ""): StorageLocation {
  let spec = parseSpec(rclonePath);
  let transformed = false;
  /** The local folder an alias names: what the user configured, below which folders may be created. */
  let anchor: string | undefined;
  const unknown = (): StorageLocation => ({ storage: `unknown|${configPath}|${spec.name}`, path: joinFolder(spec.rest), transformed });
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const section: ConfSection = spec.local ? { type: "local" } : { ...(spec.name ? (sections[spec.name] ?? file.get(spec.name)) : {}), ...spec.inline };
    const type = section.type;
    if (!type) return unknown();
    if (type === "local") {
      // rclone resolves a relative local path against the working directory.
      const abs = path.resolve(spec.rest || ".");
      return { storage: "local", path: realpathish(abs), transformed, ...(anchor !== undefined ? { anchor: realpathish(anchor) } : {}) };
    }
    if (!PASS_THROUGH.has(type) && !TRANSFORMING.has(type)) return { storage: identity(section), path: joinFolder(spec.rest), transformed };
    const target = section.remote;
    if (!target) return unknown();
    const inner = parseSpec(target);
    let rest = spec.rest;
    if (TRANSFORMING.has(type)) {
      // Below a transforming layer the stored names differ: only the layer's root can be placed.
      transformed = true;
      rest = "";
    }
    if (PASS_THROUGH.has(type) && !transformed) {
      const innerType = inner.local ? "local" : ({ ...(inner.name ? (sections[inner.name] ?? file.get(inner.name)) : {}), ...inner.inline }).type;
      if (innerType === "local") anchor = path.resolve(inner.rest || ".");
    }
    spec = { ...inner, rest: inner.local ? path.join(inner.rest, rest) : `${inner.rest.replace(/\/+$/, "")}/${rest}` };
  }
  return unknown();
}

/** Where a resolved remote's base folder really is (reads its rclone.conf for sections the product does not own). */
export async function locateRemote(remote: Pick<ResolvedRemote, "path" | "sections" | "configPath">): Promise<StorageLocation> {
  const file = await readConf(remote.configPath).catch(() => new Map<string, ConfSection>());
  return locatePath(remote.path(""), remote.sections, file, remote.configPath);
}

/** `inner` is `outer` or lies inside it (same storage). */
export function within(inner: StorageLocation, outer: StorageLocation): boolean {
  if (inner.storage !== outer.storage) return false;
  return isInside(inner.path, outer.path, inner.storage === "local");
}

export function isInside(inner: string, outer: string, local: boolean): boolean {
  if (local) return inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);
  return outer === "" || inner === outer || inner.startsWith(`${outer}/`);
}

/** The path of `inner` relative to `outer` ("" when equal); only meaningful when within(inner, outer). */
export function relativeWithin(inner: StorageLocation, outer: StorageLocation): string {
  if (inner.storage === "local") return path.relative(outer.path, inner.path).split(path.sep).join("/");
  return outer.path === "" ? inner.path : inner.path.slice(outer.path.length).replace(/^\/+/, "");
}
