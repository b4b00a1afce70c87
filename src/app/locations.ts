// The location rules (docs/reliability.md, "Location rules"): what may contain what. Every location is compared
// where it really is — local paths through symlinks, rclone aliases followed to their target, two config sections
// that reach the same server or account as one storage — never by the shape of the config. A rule that would lose
// data is a refusal naming both locations and the key to change; the safe overlaps become exclude patterns.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { configKey } from "../config/config-keys.js";
import { SYSTEM_FOLDER_ADVICE, systemFolderReason } from "../config/system-folders.js";
import type { BackupConfig, RemoteSpec, SyncMode } from "../config/types.js";
import { isInside, locateRemote, realpathish, relativeWithin, type StorageLocation, within } from "../rclone/location.js";
import { resolveRemote, type ResolvedRemote } from "../rclone/remotes.js";
import { defaultRcloneConf, productDir } from "../state/paths.js";
import { OUTBOX } from "../sync/filters.js";
import { UsageError } from "../util/errors.js";
import { homeDir } from "../config/home.js";
import type { AppContext } from "./context.js";

/** A sync or backup target: where it really is, how to show it, the key(s) that move it. */
export interface Target {
  loc: StorageLocation;
  /** Local path, or the remote's display form. */
  shown: string;
  keys: string;
  /** Local targets: the folder the config names (local.path, an alias's target); only it may be created. */
  configured?: string;
  /** The key that names `configured`. */
  configuredKey?: string;
}

/** A location of OpenClaw's or the product's own state that must never travel in a sync. */
export interface StateEntry {
  /** Absolute, symlinks resolved; one "*" segment stands for any name (agents/*\/agent). */
  path: string;
  dir: boolean;
  /** Dated copies beside a file (openclaw.json.<stamp>.bak, .env.<stamp>.bak) go with it. */
  siblings?: boolean;
}

export interface LocationFacts {
  workspace: string;
  /** workspace + sync.localPath. */
  localRoot: string;
  stateDir: string;
  mode?: SyncMode;
  /** Folder of the sync target (relative to it) whose files the sync brings into the workspace. */
  inbound?: string;
  sync?: Target;
  backup?: Target;
  /** backup.format: a repository needs a folder of its own. */
  backupFormat?: string;
  state: StateEntry[];
  home?: string;
}

export interface LocationProblem {
  message: string;
  /** Which runs it stops. */
  stops: "sync" | "backup" | "both";
}

export interface LocationPlan {
  problems: LocationProblem[];
  /** Patterns (relative to the sync root) that keep backup objects out of every transfer. */
  backupPatterns: string[];
  /** Patterns (relative to the local sync root) that keep OpenClaw's and the product's state out of every transfer. */
  statePatterns: string[];
}

/** Names of this product's backup objects at the root of a backup folder (snapshots, manifests, partial uploads). */
const BACKUP_OBJECTS = "/backup-*";

/** rclone glob metacharacters in a literal path segment. */
export function globEscape(segment: string): string {
  return segment.replace(/[\\*?[\]{}]/g, "\\$&");
}

const escapePath = (rel: string) =>
  rel
    .split("/")
    .map((s) => (s === "*" ? s : globEscape(s)))
    .join("/");

const insideLocal = (inner: string, outer: string) => isInside(inner, outer, true);

/** Applies the rules: pure, so every case is a unit test. */
export function planLocations(f: LocationFacts): LocationPlan {
  const problems: LocationProblem[] = [];
  const backupPatterns: string[] = [];
  const statePatterns: string[] = [];
  const local = (t: Target | undefined) => (t && t.loc.storage === "local" ? t.loc.path : undefined);
  const R = local(f.sync);
  const B = local(f.backup);

  if (f.sync && R !== undefined) {
    const s = f.sync;
    const what = `the sync folder ${R} (${s.keys})`;
    const system = systemFolderReason(R, f.home);
    if (system) problems.push({ stops: "sync", message: `${what} ${system}: ${SYSTEM_FOLDER_ADVICE}` });
    else if (insideLocal(f.workspace, R)) {
      problems.push({
        stops: "sync",
        message:
          `${what} ${R === f.workspace ? "is the workspace itself" : `contains the workspace ${f.workspace}`}: a push makes that folder equal to the ` +
          `workspace, so it would delete the workspace${R === f.workspace ? "'s own files" : " itself"} and everything else in it. ` +
          `Set ${s.keys} to a folder outside the workspace (or move the workspace); raising maxDelete would not help`,
      });
    } else if (insideLocal(R, f.workspace)) {
      problems.push({
        stops: "sync",
        message:
          `${what} is inside the workspace ${f.workspace}: every push would copy the workspace into itself once more ` +
          `(a new nested copy each cycle). Set ${s.keys} to a folder outside the workspace`,
      });
    } else if (insideLocal(f.stateDir, R)) {
      problems.push({
        stops: "sync",
        message:
          `${what} contains the OpenClaw state dir ${f.stateDir}: a push makes that folder equal to the workspace and would delete ` +
          `the state dir. Set ${s.keys} to a folder of its own`,
      });
    }
  }

  if (f.backup && B !== undefined) {
    const b = f.backup;
    const what = `the backup folder ${B} (${b.keys})`;
    const system = systemFolderReason(B, f.home);
    if (system) problems.push({ stops: "both", message: `${what} ${system}: ${SYSTEM_FOLDER_ADVICE}` });
    else if (insideLocal(B, f.workspace)) {
      problems.push({
        stops: "both",
        message:
          `${what} is inside the workspace ${f.workspace}: every backup of the workspace would hold the earlier snapshots again, ` +
          `and the sync would carry them. Set ${b.keys} to a folder outside the workspace`,
      });
    }
  }

  if (f.sync && f.backup && within(f.backup.loc, f.sync.loc)) {
    const s = f.sync;
    const b = f.backup;
    const rel = relativeWithin(b.loc, s.loc);
    const both = `the backup folder ${b.shown} (${b.keys}) is ${rel === "" ? "the sync folder itself" : `inside the sync folder ${s.shown} (${s.keys})`}`;
    if (s.loc.transformed) {
      problems.push({
        stops: "both",
        message:
          `${both}, whose names rclone encrypts: the sync cannot tell the snapshots apart there and would delete them. ` +
          `Set ${b.keys} to a folder outside ${s.shown}`,
      });
    } else if (f.inbound && (rel === f.inbound || rel.startsWith(`${f.inbound}/`))) {
      problems.push({
        stops: "both",
        message:
          `${both}, in its ${f.inbound}/ folder, whose files the sync brings into the workspace (and, in mailbox mode, deletes from the cloud). ` +
          `Set ${b.keys} to a folder outside ${f.inbound}/`,
      });
    } else if (rel === "" && f.backupFormat === "repository") {
      // A restic repository's config, keys/, data/, index/ … would sit among the workspace's own files and names:
      // no pattern can tell a workspace folder named data/ from the repository's.
      problems.push({
        stops: "both",
        message: `${both}: a restic repository (backup.format "repository") needs a folder of its own. Set ${b.keys} to a subfolder (e.g. "backups")`,
      });
    } else {
      backupPatterns.push(rel === "" ? BACKUP_OBJECTS : `/${escapePath(rel)}/**`);
    }
  }

  // OpenClaw's state inside the local sync root: never pushed, pulled over or deleted by a sync.
  const L = f.localRoot;
  const stateNested = f.stateDir !== L && insideLocal(f.stateDir, L);
  if (stateNested) statePatterns.push(`/${escapePath(path.relative(L, f.stateDir).split(path.sep).join("/"))}/**`);
  for (const e of f.state) {
    if (e.path === L || !insideLocal(e.path, L)) continue;
    if (stateNested && insideLocal(e.path, f.stateDir)) continue;
    const rel = escapePath(path.relative(L, e.path).split(path.sep).join("/"));
    statePatterns.push(e.dir ? `/${rel}/**` : `/${rel}`);
    if (e.siblings) statePatterns.push(`/${rel}.*`);
  }
  return { problems, backupPatterns, statePatterns: [...new Set(statePatterns)] };
}

/** The key(s) that move a target: the local folder or alias target, else the folder on the remote. */
function targetKeys(spec: RemoteSpec, folderKeys: string[]): string {
  const block = configKey(spec);
  const join = (k: string) => (block ? `${block}.${k}` : k);
  const keys = [...folderKeys];
  if (spec.local) keys.unshift(join("path"));
  else if (spec.custom?.rcloneType === "alias") keys.unshift(join("rcloneOptions.remote"));
  else if (spec.configPath && !block) keys.push(`the "${spec.remoteName}" section of ${spec.configPath}`);
  return keys.length > 1 ? `${keys.slice(0, -1).join(", ")} or ${keys.at(-1)}` : keys[0]!;
}

async function target(remote: ResolvedRemote, spec: RemoteSpec, folderKeys: string[]): Promise<Target> {
  const loc = await locateRemote(remote);
  const configured = spec.local ? realpathish(spec.local.path) : loc.anchor;
  const block = configKey(spec);
  const configuredKey = spec.local ? "path" : spec.custom?.rcloneType === "alias" ? "rcloneOptions.remote" : undefined;
  return {
    loc,
    shown: loc.storage === "local" ? loc.path : remote.display,
    keys: targetKeys(spec, folderKeys),
    ...(configured !== undefined ? { configured } : {}),
    ...(configuredKey ? { configuredKey: block ? `${block}.${configuredKey}` : configuredKey } : spec.configPath ? { configuredKey: `the "${spec.remoteName}" section of ${spec.configPath}` } : {}),
  };
}

/** OpenClaw's and the product's own state (the state dir's secrets, config, rclone.conf files, identities). */
function stateEntries(ctx: AppContext): StateEntry[] {
  const S = ctx.stateDir;
  const entries: StateEntry[] = [
    { path: productDir(S), dir: true },
    { path: ctx.configFile, dir: false, siblings: true },
    { path: path.join(S, ".env"), dir: false, siblings: true },
    { path: ctx.env.OPENCLAW_OAUTH_DIR?.trim() || path.join(S, "credentials"), dir: true },
    { path: path.join(S, "agents", "*", "agent"), dir: true },
    { path: path.join(S, "state"), dir: true },
    { path: path.join(S, "identity"), dir: true },
    { path: path.join(S, "devices"), dir: true },
    { path: path.join(S, "secrets"), dir: true },
    { path: path.join(S, "secrets.json"), dir: false },
    { path: path.join(S, "gateway.token"), dir: false },
  ];
  const sync = ctx.config.sync;
  const backup = ctx.config.backup;
  if (sync?.remote.configPath) entries.push({ path: sync.remote.configPath, dir: false });
  if (backup?.remote.configPath) entries.push({ path: backup.remote.configPath, dir: false });
  if (backup?.identityFile) entries.push({ path: backup.identityFile, dir: false });
  return entries.map((e) => {
    // realpath of the part before a "*" segment, which stays as a pattern.
    const parts = e.path.split(path.sep);
    const star = parts.indexOf("*");
    if (star < 0) return { ...e, path: realpathish(e.path) };
    return { ...e, path: path.join(realpathish(parts.slice(0, star).join(path.sep) || path.sep), ...parts.slice(star)) };
  });
}

export interface RemotesInPlay {
  sync?: ResolvedRemote;
  backup?: ResolvedRemote;
}

/** Gathers where everything is. `remotes` are the resolved sync remote (with its crypt) and backup remote. */
export async function locationFacts(ctx: AppContext, remotes: RemotesInPlay): Promise<LocationFacts> {
  const sync = ctx.config.sync;
  const backup = ctx.config.backup;
  const prefix = sync ? configKey(sync) : undefined;
  const syncKey = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const workspace = realpathish(ctx.workspaceDir);
  const facts: LocationFacts = {
    workspace,
    localRoot: realpathish(path.resolve(ctx.workspaceDir, sync?.localPath || ".")),
    stateDir: realpathish(ctx.stateDir),
    state: stateEntries(ctx),
    home: homeDir(ctx.env),
  };
  if (sync) {
    facts.mode = sync.mode;
    if (sync.mode === "mailbox") facts.inbound = OUTBOX;
    else if (sync.mode === "mirror" && sync.ingest) facts.inbound = sync.ingestPath;
  }
  if (sync && remotes.sync) facts.sync = await target(remotes.sync, sync.remote, [syncKey("remotePath")]);
  if (backup && remotes.backup) {
    facts.backup = await target(remotes.backup, backup.remote, backupFolderKeys(backup));
    facts.backupFormat = backup.format;
  }
  return facts;
}

function backupFolderKeys(backup: BackupConfig): string[] {
  return backup.bucket ? ["backup.bucket", "backup.prefix"] : ["backup.prefix"];
}

export class LocationError extends UsageError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `${problems[0]}.`
        : `the configured locations overlap in ways that would lose data or leak secrets:\n${problems.map((p) => `  - ${p}.`).join("\n")}`,
    );
    this.name = "LocationError";
  }
}

/**
 * A local target whose configured folder is missing is fine when its parent exists (the run creates that last folder);
 * a missing parent is most likely an unmounted disk or a typo, and nothing may be created there.
 */
export function missingParentProblem(t: Target | undefined, what: string): string | undefined {
  if (!t || t.loc.storage !== "local" || t.configured === undefined) return undefined;
  const folder = t.configured;
  if (existsSync(folder)) {
    return statSync(folder).isDirectory() ? undefined : `the ${what} folder ${folder} (${t.configuredKey ?? t.keys}) is a file, not a folder`;
  }
  const parent = path.dirname(folder);
  if (existsSync(parent)) return undefined;
  const key = t.configuredKey ?? t.keys;
  return (
    `the ${what} folder ${folder} (${key}) does not exist, and neither does ${parent}: is a disk not mounted, or is the path mistyped? ` +
    `Mount it or fix ${key}; the product creates only the last folder of a target, and only when its parent exists`
  );
}

/** The workspace must exist: a missing one would be pushed as empty (or filled from the remote by a pull). */
export function missingWorkspaceProblem(ctx: AppContext): string | undefined {
  const dir = ctx.workspaceDir;
  if (existsSync(dir)) return statSync(dir).isDirectory() ? undefined : `the workspace ${dir} is a file, not a folder`;
  const o = ctx.workspaceOrigin;
  if (o?.agent !== undefined && !o.agentListed) {
    const known = o.knownAgents.length ? `; agents in ${ctx.configFile}: ${o.knownAgents.join(", ")}` : `; ${ctx.configFile} lists no agents`;
    return `--agent ${o.agent}: there is no such agent — it is not in agents.list and it has no workspace folder (${dir})${known}. Check the name`;
  }
  const from =
    o === undefined
      ? "the agent's workspace as OpenClaw resolves it"
      : o.from === "default"
        ? `OpenClaw's default for ${o.agent ? `agent ${o.agent}` : "the default agent"}`
        : o.from === "--workspace" || o.from === "$OPENCLAW_WORKSPACE_DIR"
          ? o.from
          : `${o.from} in ${ctx.configFile}`;
  return (
    `the workspace ${dir} (from ${from}) does not exist: is a disk not mounted, or is the path mistyped? ` +
    "Sync never treats a missing workspace as an empty one; create it or point the workspace at the right folder"
  );
}

/**
 * Checks the rules for a sync run and returns what to keep out of its transfers; throws a LocationError (exit 2)
 * naming every problem before anything runs. (A missing workspace is the cycle's to refuse: `list` needs none.)
 */
export async function checkSyncLocations(ctx: AppContext, remotes: RemotesInPlay): Promise<{ protectedPatterns: string[] }> {
  const problems: string[] = [];
  const facts = await locationFacts(ctx, remotes);
  const plan = planLocations(facts);
  problems.push(...plan.problems.filter((p) => p.stops !== "backup").map((p) => p.message));
  const parent = missingParentProblem(facts.sync, "sync");
  if (parent) problems.push(parent);
  if (problems.length) throw new LocationError(problems);
  return { protectedPatterns: [...plan.backupPatterns, ...plan.statePatterns] };
}

/** The sync remote as every sync run reaches it (with its crypt wrapper). */
export function syncRemoteFor(ctx: AppContext): ResolvedRemote | undefined {
  const sync = ctx.config.sync;
  return sync ? resolveRemote(sync.remote, sync.remotePath, defaultRcloneConf(ctx.stateDir), { withCrypt: true }) : undefined;
}

/**
 * Checks the rules for a backup run (the backup folder against the workspace and the sync folder); throws a
 * LocationError (exit 2) before anything is written.
 */
export async function checkBackupLocations(ctx: AppContext, backupRemote: ResolvedRemote): Promise<void> {
  const facts = await locationFacts(ctx, { sync: syncRemoteFor(ctx), backup: backupRemote });
  const plan = planLocations(facts);
  const problems = plan.problems.filter((p) => p.stops !== "sync").map((p) => p.message);
  const parent = missingParentProblem(facts.backup, "backup");
  if (parent) problems.push(parent);
  const backup = ctx.config.backup;
  if (backup && !backup.encrypt && !backup.allowPlaintextSecrets && backup.include.includes("workspace") && facts.workspace === facts.stateDir) {
    problems.push(
      `backup.include has "workspace", and the workspace ${facts.workspace} is the OpenClaw state dir itself: it holds credentials ` +
        '(credentials/, openclaw.json, .env, the agents\' auth profiles). Set "encrypt": true with a "passphrase" or "recipients", ' +
        'or move the workspace out of the state dir (or set "allowPlaintextSecrets": true to store them unencrypted on purpose)',
    );
  }
  if (problems.length) throw new LocationError(problems);
}
