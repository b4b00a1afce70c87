// The seam between the format-neutral backup commands (run, list, verify, restore, prune in src/backup/) and the
// ways a snapshot can be stored in the backup folder. One interface, one folder per implementation — restic's
// internal/backend model — and the commands never ask which format they are talking to:
//   formats/legacy/      the older plugin's `backup-*.tar.gz[.enc]` (read-only: list, verify, restore, forget on request)
//   formats/archive/     one streaming file per snapshot: tar → zstd → age → `rclone rcat`, then a manifest
//   formats/repository/  a restic repository, format version 2: deduplicated and incremental
// A folder may hold several formats at once (a user who switched keeps the old snapshots listable, verifiable,
// restorable and under retention): the commands list every format of formats/index.ts and merge the listings.
import type { Unlock } from "../crypto/index.js";
import type { WalkEntry } from "../tree-walk.js";
import type { HelperPort } from "../../util/helper-port.js";

/**
 * A snapshot as every command sees it, whatever stores it.
 *
 * Groups: `host` + `paths` (restic's default grouping). `latest`, retention and skip-unchanged work per group, so two
 * installs sharing one folder never prune or restore each other's snapshots.
 */
export interface SnapshotSummary {
  /** The format that stores it (StorageFormat.name). */
  format: string;
  /** 64 hex digits, stable for the snapshot's lifetime; commands accept any unique prefix. */
  id: string;
  /** The first 8 hex digits of `id`. */
  shortId: string;
  /** The name the format stores it under (an object name, or the id): accepted wherever a snapshot is named. */
  name: string;
  /** When the snapshot was taken (the clock of the host that took it). */
  time: Date;
  /**
   * Commit order within its format's folder (higher = committed later; 0 = unknown). "Newest" is decided by `order`,
   * then `time`: a host clock that was wrong when a snapshot was taken cannot make an older one pass for the newest.
   */
  order: number;
  host: string;
  agent: string;
  /** The included live paths (what was looked for, not what existed): with `host`, the snapshot's group. */
  paths: string[];
  /** Group key: see groups.ts (empty for snapshots that belong to no group: the older plugin's). */
  group: string;
  /**
   * False for snapshots this product did not write (the older plugin's): listed apart, chosen as `latest` only when
   * nothing else exists, removed by retention only when asked, restored without a comparison with live locations.
   */
  managed: boolean;
  /** Files and bytes of file content in the snapshot (undefined when the format does not record them). */
  files?: number;
  bytes?: number;
  /** Bytes the snapshot occupies in the folder (its own objects; for a deduplicating format, what it added). */
  storedBytes?: number;
  items: string[];
  missingItems: string[];
  /** Human description of the encryption, never a secret (e.g. "age (passphrase)"). */
  encryption: string;
  /** Where each item lies inside the snapshot and where it came from (for the restore's comparison with live files). */
  layout: { item: string; path: string; livePath: string }[];
  /** Fingerprint of the live tree the snapshot was taken from (skip-unchanged), when recorded. */
  fingerprint?: string;
}

/** A snapshot the format knows about but cannot offer as intact (its data is missing or does not match its record). */
export interface DamagedSnapshot {
  format: string;
  name: string;
  id?: string;
  shortId?: string;
  group?: string;
  problem: string;
}

/**
 * Something a killed or failed run left in the folder that no snapshot uses. The format only reports what it can
 * prove is of its own making (its naming, its folder layout); whether it may go is decided in src/backup/leftovers.ts:
 * by ownership (`owner` recorded in this install's journal before it was written) and age (`modTime` from the
 * listing, never a date in a name), unless the format itself proves no writer is left (`writerGone`).
 */
export interface Leftover {
  format: string;
  /** What cleanup() deletes (an object name relative to the folder). */
  object: string;
  /** The key its writer recorded with WriteJournal.begin() before writing it. */
  owner: string;
  /** Modification time as the folder's listing reports it. */
  modTime: Date;
  reason: string;
  /** The format proves no writer can still be adding to it (e.g. it holds an exclusive lock): it may go at once. */
  writerGone?: boolean;
}

export interface FormatListing {
  /** Intact snapshots, in any order (the commands sort). */
  snapshots: SnapshotSummary[];
  damaged: DamagedSnapshot[];
  leftovers: Leftover[];
}

/**
 * Ownership records kept by the format-neutral state (backup-state.json), so a run killed midway leaves leftovers
 * the next run can prove are this install's. begin() before the first byte of anything that could be left behind;
 * end() once it is referenced by a committed snapshot, or deleted.
 */
export interface WriteJournal {
  begin(key: string): Promise<void>;
  end(key: string): Promise<void>;
}

/** What a backup run hands the writing format: the live tree as one entry stream, and who and what it is. */
export interface SnapshotDraft {
  /** When the run started: the snapshot's time. */
  time: Date;
  host: string;
  agent: string;
  /** Included live paths (the group's paths). */
  paths: string[];
  /** Live roots of the snapshot's top-level folders: "workspace" → the workspace, "state" → the state dir. */
  roots: Record<string, string>;
  /** Each included location: its item, its path inside the snapshot, its live path. */
  items: { item: string; path: string; livePath: string; type: "dir" | "file" }[];
  missingItems: string[];
  missing: { item: string; livePath: string }[];
  /**
   * The entries to store, in walk order (`capturingEntries`): files, folders and symlinks of every item under its
   * snapshot path, live SQLite databases already replaced by consistent copies (absPath points at the copy).
   * Iterate once; read each file's bytes from absPath before asking for the next entry (the copy is then deleted).
   */
  entries: AsyncIterable<WalkEntry>;
  /**
   * The folders `entries` will hold, from a walk of folders alone (same items and exclusions, no stat per file), for a
   * format that stores them ahead of the files (the archive: a restore then makes every folder first).
   */
  folders?: () => AsyncIterable<WalkEntry>;
  /** Files and bytes the entries will hold, from a walk beside the stream: for progress and upload sizing only. */
  estimate: Promise<{ files: number; bytes: number }>;
  /** Known once `entries` is exhausted: the live tree's fingerprint, the captured databases, warnings so far. */
  sealed(): { fingerprint: string; databases: string[]; warnings: string[] };
  /** Bytes of file content and files read so far. */
  onProgress(bytes: number, files: number): void;
  warn(message: string): void;
  journal: WriteJournal;
  /** The group's newest snapshot of this format, for a format that stores only what changed. */
  parent?: SnapshotSummary;
  signal: AbortSignal;
}

export interface Committed {
  snapshot: SnapshotSummary;
  files: number;
  bytes: number;
  storedBytes: number;
}

/** One entry of a snapshot's tree, without data. */
export interface SnapshotNode {
  /** Path inside the snapshot, "/"-separated, exactly as stored: unchecked (the restore refuses unsafe ones). */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  /** For "other": the format's own word for it (tar's "Link", "CharacterDevice"; restic's "dev", "fifo"). */
  kind?: string;
  size: number;
  mode?: number;
  mtime?: Date;
  linkTarget?: string;
  /**
   * A file's content identity where the format records one without reading data (restic: the SHA-256 of its blob ID
   * list): equal for equal contents within one format, so `backup diff` compares trees without downloading anything.
   */
  contentId?: string;
  /** Why the entry can never be restored as the format stored it (e.g. a hostile name holding "/" or ".."). */
  problem?: string;
}

/** An entry with its content, as a read streams it. */
export interface SnapshotEntry extends SnapshotNode {
  /**
   * The file's bytes (type "file"): iterate at most once, before the visitor returns. Content left unread is skipped —
   * by reading past it in a stream, or, where the format can, by never fetching it.
   */
  content(): AsyncIterable<Uint8Array>;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Stored bytes read so far, of `total` (the meter's byte count; files are counted by the visitor's caller). */
  onBytes?: (read: number, total: number) => void;
  /**
   * Files whose content the visitor will read (restore --path): a format that fetches data ahead fetches only these.
   * Every entry is still visited; reading the content of one not wanted still works, just without read-ahead.
   */
  wanted?: (node: SnapshotNode) => boolean;
  /**
   * Folders whose contents the visitor wants (restore --path): a format that keeps each folder apart (the repository,
   * one tree each) neither reads nor visits what lies in a folder this turns down; the folder itself is visited. A
   * stream (the archive) reads everything anyway.
   */
  descend?: (dir: SnapshotNode) => boolean;
  /**
   * The selection's totals, counted by the caller from nodes() (restore --path, in its walk for the folders): a format
   * that would count them from its trees takes these instead of walking them once more.
   */
  counted?: { files: number; bytes: number };
  /**
   * nodes() only: the visitor looks at folders alone (a restore's walk for the folders it makes first), so a format
   * that keeps trees apart may leave the other nodes undecoded and unvisited.
   */
  foldersOnly?: boolean;
  /**
   * The snapshot's totals (files, bytes of content) once the format knows them: a format whose snapshot record lacks
   * them may count them first (the repository, from its trees) so that progress has a total.
   */
  onTotal?: (files: number, bytes: number) => void;
  /**
   * The visitor writes every entry to disk (a restore, not a verify or dry run): its per-file objects outlive the
   * young generation, so a format that paces the garbage collector collects the old one more often (archive/transfer.ts);
   * and it frees the chunks a source hands over once written, so a source that hands its chunks over may collect
   * less often (repository/reader.ts).
   */
  writesFiles?: boolean;
  /**
   * Called by a read that decodes on a helper thread, with a way to a line to it (undefined once that thread is gone;
   * taking a line obliges the taker to end() it): a restore writes its small files there too instead of on its main
   * thread. No restore starts a thread for that alone: each Node thread is a runtime of its own, ~20 MiB of memory.
   */
  onThread?: (port: () => HelperPort | undefined) => void;
}

export interface ReadCheck {
  /** Stored bytes read. */
  storedBytes: number;
  /** A digest of what was read, where the format keeps one (the archive's SHA-256 of the stored object). */
  digest?: string;
}

export interface SnapshotReader {
  /**
   * Streams every entry with its content, in stored order, one at a time (the next entry comes after the visitor's
   * promise settled), and checks the snapshot end to end on the way: authentication, hashes, the format's own record.
   * Resolves only once all of it was read and checked: a restore makes its result visible only then. A visitor that
   * throws stops the read with that error. Errors name the snapshot and say what is wrong (wrong key, damaged data),
   * as OperationError (exit 1) or UsageError (exit 2: a key is missing).
   */
  entries(visit: (entry: SnapshotEntry) => Promise<void>, opts?: ReadOptions): Promise<ReadCheck>;
  /**
   * The tree without file data (ls, find, diff, restore --dry-run), where the format keeps trees apart from the data.
   * Absent for formats that must stream everything to see the tree (archive, legacy): callers use entries() then.
   */
  nodes?(visit: (node: SnapshotNode) => Promise<void>, opts?: ReadOptions): Promise<void>;
  /**
   * Says that entries() follows (a restore about to walk its trees for the folders): a format that must hold something
   * before it reads data starts taking it now, so that the wait overlaps the walk (the repository's shared lock, whose
   * check waits 200 ms as restic's does). entries() then uses what was taken. The function returned lets go of it
   * should entries() never run (a failure before it); after entries() it does nothing.
   */
  prepareRead?(): () => Promise<void>;
}

export interface CheckOptions {
  /** Snapshots of this format to check (a format may also check what they share: indexes, packs). */
  snapshots: SnapshotSummary[];
  /** Read all the data back (restic's `check --read-data`); false: structure only. */
  readData: boolean;
  /** With readData: check this fraction (0 < subset ≤ 1) of the data (restic's `--read-data-subset`). */
  subset?: number;
  keys: Unlock;
  signal?: AbortSignal;
  onBytes?: (read: number, total: number) => void;
  /** Entries met while reading data, for the progress counter. */
  onEntry?: (node: SnapshotNode) => void;
}

export interface CheckResult {
  snapshot: SnapshotSummary;
  ok: boolean;
  error?: string;
  /** What a data read found (absent for a structure-only check). */
  found?: { files: number; dirs: number; symlinks: number; bytes: number };
  storedBytes?: number;
  digest?: string;
  /** The snapshot was removed (a forget, another run's retention) after it was listed: nothing left to check. */
  gone?: boolean;
}

export interface CheckReport {
  results: CheckResult[];
  /** Problems not tied to one snapshot (a damaged index, an unreadable pack). */
  problems: string[];
  /** Findings that are not errors (restic check's hints: a pack no index names, a pack listed twice). */
  hints?: string[];
}

/**
 * A storage format: how snapshots are laid out in the backup folder. Every method works on the folder the job
 * points at, through rclone; none may touch another format's objects.
 *
 * For the implementer of a new format (the restic repository, format version 2, is the model this was cut for):
 * - list(): every snapshot (restic: the `snapshots/` files, decrypted) as format-neutral summaries — `id` is the
 *   snapshot file's ID, `name` may equal it; `host`, `paths` and an `agent` (restic: a tag `agent:<id>`) give the group;
 *   damaged ones (a snapshot whose tree is missing) apart; leftovers only where the format proves they are its own.
 * - write(): consume `draft.entries` once (restic: chunk each file with the repository's polynomial, skip files whose
 *   size/mtime/inode match `draft.parent`'s nodes, pack the missing blobs), and make the snapshot visible only when
 *   complete (restic: packs, then index, then the snapshot file). Take whatever locks the format needs (restic: a
 *   shared lock, refreshed) and release them on every path. begin() a journal key before anything that could be
 *   left behind if the process dies.
 * - open(): a reader; entries() streams content (restic: trees walked in order, blobs fetched and verified), nodes()
 *   answers from the trees alone.
 * - check(): structure (restic: `check`) and, with readData, the data (restic: `check --read-data[-subset]`).
 * - forget(): remove the snapshots' own records (restic: the snapshot files) — never data another snapshot uses.
 * - cleanup(): delete the given leftovers (cheap; every backup run calls it).
 * - prune(): only `backup prune` calls it, after retention: remove data no snapshot references any more, under an
 *   exclusive lock, new packs and index written before old ones are deleted (restic: `prune`, repacking sparse packs).
 * Errors: expected failures are ExpectedError subclasses (util/errors) with their exit code; messages name the
 * object at fault and never carry a secret.
 */
export interface StorageFormat {
  /** The config's `backup.format` value that writes this format; also shown in listings. */
  readonly name: string;
  /** Read-only formats (the older plugin's) cannot write. */
  readonly writable: boolean;
  /**
   * check() without readData examines something of its own (restic: index, packs, every tree), so `backup verify`
   * reads data only with --read-data. Formats without it (one object per snapshot) are always verified by a full read.
   */
  readonly checksStructure?: boolean;
  /**
   * The format builds its records from full lstat results (inode, ctime, nanosecond times): the walk then hands each
   * entry its own lstat (`WalkEntry.stats`) and the format does not stat every path a second time.
   */
  readonly wantsStats?: boolean;
  list(): Promise<FormatListing>;
  /** Stops writers of this format that a killed run of this install left running (before list/cleanup). */
  stopStrayWriters?(): Promise<void>;
  /** A backup will follow: start slow key setup (e.g. scrypt) while the folder is listed. */
  prepareWrite?(): void;
  write(draft: SnapshotDraft): Promise<Committed>;
  open(snapshot: SnapshotSummary, keys: Unlock): SnapshotReader;
  check(opts: CheckOptions): Promise<CheckReport>;
  /** Removes snapshots; failures are collected per snapshot, never thrown (the rest stay consistent). */
  forget(snapshots: SnapshotSummary[], journal: WriteJournal): Promise<{ removed: SnapshotSummary[]; errors: string[] }>;
  /** Deletes these leftovers; returns what was deleted (dryRun: what would be). */
  cleanup(leftovers: Leftover[], opts: { dryRun: boolean }): Promise<string[]>;
  /** Releases what the format keeps open between calls (a transport): called when a command is done with it. */
  close?(): Promise<void>;
  /** Removes data no snapshot references any more (formats whose snapshots share data). */
  prune?(opts: { dryRun: boolean; signal?: AbortSignal }): Promise<{ removed: string[]; freedBytes: number }>;
}
