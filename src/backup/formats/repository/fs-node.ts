// A tree node from lstat, the way restic 0.14 builds it (internal/restic/node.go NodeFromFileInfo + fillExtra, and
// the archiver's default of atime = mtime): Go os.FileMode bits, owner names from /etc/passwd and /etc/group,
// inode, st_dev, link count, size, nanosecond times in the local zone, rdev for devices, the symlink target's bytes.
//
// Extended attributes: Node has no xattr API, so nodes made here never carry `extended_attributes`. restic records
// every xattr of files and directories (not symlinks); for an item that has any (user.*, security.*, POSIX ACLs in
// system.posix_acl_*), the tree written here differs from restic's, so its tree ID differs (that tree is stored
// once more instead of deduplicated; never invalid) and a restore does not bring the xattrs back. Items without
// xattrs, the normal case in an agent workspace, give the same bytes as restic.
import { type EntryStats, entryStats, isSymlink } from "../../tree-walk.js";
import { lstat, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { goTimeFromNs } from "./go-time.js";
import { GoMode, type Node, type NodeType } from "./node.js";

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

/** Go's os.FileMode for a POSIX st_mode (syscall fillFileStatFromSys), masked as restic stores it. */
export function goFileMode(stMode: number): number {
  let mode = stMode & 0o777;
  switch (stMode & S_IFMT) {
    case S_IFBLK:
      mode |= GoMode.device;
      break;
    case S_IFCHR:
      mode |= GoMode.device | GoMode.charDevice;
      break;
    case S_IFDIR:
      mode |= GoMode.dir;
      break;
    case S_IFIFO:
      mode |= GoMode.namedPipe;
      break;
    case S_IFLNK:
      mode |= GoMode.symlink;
      break;
    case S_IFSOCK:
      mode |= GoMode.socket;
      break;
  }
  if (stMode & 0o2000) mode |= GoMode.setgid;
  if (stMode & 0o4000) mode |= GoMode.setuid;
  if (stMode & 0o1000) mode |= GoMode.sticky;
  return mode >>> 0;
}

/** The POSIX st_mode bits for a Go FileMode (what a restore passes to chmod/mknod). */
export function posixModeFromGo(goMode: number): number {
  let mode = goMode & 0o777;
  if (goMode & GoMode.setuid) mode |= 0o4000;
  if (goMode & GoMode.setgid) mode |= 0o2000;
  if (goMode & GoMode.sticky) mode |= 0o1000;
  return mode;
}

export function nodeTypeOf(stMode: number): NodeType | undefined {
  switch (stMode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    case S_IFBLK:
      return "dev";
    case S_IFCHR:
      return "chardev";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return undefined;
  }
}

/**
 * uid/gid → name as Go's os/user finds them in /etc/passwd and /etc/group (first matching line; "" when none), each
 * file read once per instance. Use one instance per backup run.
 */
export class AccountNames {
  private users?: Map<number, string>;
  private groups?: Map<number, string>;
  constructor(
    private readonly passwdPath = "/etc/passwd",
    private readonly groupPath = "/etc/group",
  ) {}

  async user(uid: number): Promise<string> {
    return (await this.load()).userOf(uid);
  }

  async group(gid: number): Promise<string> {
    return (await this.load()).groupOf(gid);
  }

  /** Reads both files (once); afterwards userOf/groupOf answer without waiting. */
  async load(): Promise<this> {
    this.users ??= await readIdFile(this.passwdPath, 2);
    this.groups ??= await readIdFile(this.groupPath, 2);
    return this;
  }

  userOf(uid: number): string {
    if (!this.users) throw new Error("AccountNames.userOf before load()");
    return this.users.get(uid) ?? "";
  }

  groupOf(gid: number): string {
    if (!this.groups) throw new Error("AccountNames.groupOf before load()");
    return this.groups.get(gid) ?? "";
  }
}

async function readIdFile(file: string, idField: number): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return names;
  }
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue;
    const parts = line.split(":");
    if (parts.length <= idField) continue;
    const id = Number(parts[idField]);
    if (!Number.isInteger(id) || !/^\d+$/.test(parts[idField]!)) continue;
    if (!names.has(id)) names.set(id, parts[0]!);
  }
  return names;
}

export interface FsNodeOptions {
  /** restic's --with-atime: record the real atime (default: atime = mtime, as restic's archiver does). */
  withAtime?: boolean;
  /** Zone of the times: the machine's local zone (restic's behaviour, the default) or UTC. */
  zone?: "local" | "utc";
  names?: AccountNames;
}

export class UnsupportedFileTypeError extends Error {
  constructor(readonly path: string | Buffer) {
    super(`${String(path)}: unsupported file type`);
    this.name = "UnsupportedFileTypeError";
  }
}

/**
 * The node for already-read stats. `linkTarget` is required for a symlink. File nodes get `content: []`; the
 * archiver fills in the blob IDs (and dir nodes their subtree).
 */
export async function nodeFromStats(name: Uint8Array, st: EntryStats, linkTarget: Uint8Array | undefined, options: FsNodeOptions = {}): Promise<Node> {
  const names = await (options.names ?? defaultNames).load();
  return nodeFromStatsSync(name, st, linkTarget, names, options);
}

/**
 * nodeFromStats with the owner names already loaded: no await per node, which counts for the archiver's tens of
 * thousands of unchanged files. Zero sizes, link counts and devices are left out (as Go's omitempty does).
 */
export function nodeFromStatsSync(name: Uint8Array, st: EntryStats, linkTarget: Uint8Array | undefined, names: AccountNames, options: FsNodeOptions = {}): Node {
  const stMode = st.mode;
  const type = nodeTypeOf(stMode);
  if (!type) throw new UnsupportedFileTypeError(Buffer.from(name));
  const zone = options.zone ?? "local";
  const mtime = goTimeFromNs(st.mtimeNs, zone);
  const node: Node = {
    name,
    type,
    mode: goFileMode(stMode),
    mtime,
    atime: options.withAtime ? goTimeFromNs(st.atimeNs, zone) : mtime,
    ctime: goTimeFromNs(st.ctimeNs, zone),
    uid: st.uid,
    gid: st.gid,
    content: type === "file" ? [] : null,
  };
  const user = names.userOf(st.uid);
  const group = names.groupOf(st.gid);
  if (user) node.user = user;
  if (group) node.group = group;
  if (st.ino !== 0n) node.inode = st.ino;
  if (st.dev !== 0n) node.deviceId = st.dev;
  switch (type) {
    case "file":
      if (st.size !== 0) node.size = BigInt(st.size);
      if (st.nlink !== 0) node.links = BigInt(st.nlink);
      break;
    case "symlink":
      if (!linkTarget) throw new Error("nodeFromStats: a symlink needs its target");
      node.linkTarget = linkTarget;
      if (st.nlink !== 0) node.links = BigInt(st.nlink);
      break;
    case "dev":
    case "chardev":
      if (st.rdev !== 0n) node.device = st.rdev;
      if (st.nlink !== 0) node.links = BigInt(st.nlink);
      break;
  }
  return node;
}

const defaultNames = new AccountNames();

/** lstat (never following a symlink) + readlink: the node for a path; the name is the path's last component's bytes. */
export async function nodeFromPath(file: string | Buffer, options: FsNodeOptions = {}): Promise<Node> {
  const st = entryStats(await lstat(file, { bigint: true }));
  const linkTarget = isSymlink(st) ? new Uint8Array(await readlink(file, { encoding: "buffer" })) : undefined;
  return nodeFromStats(baseNameBytes(file), st, linkTarget, options);
}

export function baseNameBytes(file: string | Buffer): Uint8Array {
  if (typeof file === "string") return new Uint8Array(Buffer.from(path.basename(file), "utf8"));
  let end = file.length;
  while (end > 1 && file[end - 1] === 0x2f) end--;
  const slash = file.lastIndexOf(0x2f, end - 1);
  return new Uint8Array(file.subarray(slash + 1, end));
}
