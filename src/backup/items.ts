// The item map: each `include` item → the live locations OpenClaw 2026.9.x keeps it in (verified against the
// installed host; see docs/backup.md), and the archive layout that mirrors them: `workspace/…` for the agent
// workspace, `state/…` for the state dir, `external/<item>/…` for anything configured elsewhere.
import { lstat, readdir, realpath } from "node:fs/promises";
import path from "node:path";
import type { BackupItem } from "../config/types.js";
import { makeExcluder } from "../rclone/glob.js";

export interface LiveLayout {
  stateDir: string;
  workspaceDir: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
}

/** One live location of an item. */
export interface ItemSource {
  item: BackupItem;
  livePath: string;
  /** Where the walk starts (the live path, or its target when the live path itself is a symlink). */
  root: string;
  type: "dir" | "file";
  archivePath: string;
  /** Item-specific excludes (e.g. extensions without node_modules). */
  exclude: string[];
  /** Holds credentials or tokens: refused in plain text unless allowPlaintextSecrets. */
  secret: boolean;
}

interface Candidate {
  where: "state" | "workspace" | "config" | "oauth";
  /** Relative path; one `*` segment expands to each agent id. */
  rel: string;
  type: "dir" | "file";
  exclude?: string[];
  secret?: boolean;
}

const STATE_DB: Candidate = { where: "state", rel: "state/openclaw.sqlite", type: "file", secret: true };
const AGENT_DBS: Candidate = { where: "state", rel: "agents/*/agent/openclaw-agent.sqlite", type: "file", secret: true };
const AGENT_SESSIONS: Candidate = { where: "state", rel: "agents/*/sessions", type: "dir" };

/**
 * Shared state DB (state/openclaw.sqlite): cron jobs and runs, plus MCP OAuth tokens and device tokens.
 * Per-agent DB (agents/<id>/agent/openclaw-agent.sqlite): sessions and transcripts, memory index, model auth profiles.
 */
export const ITEM_MAP: Record<BackupItem, Candidate[]> = {
  // The sync engine's own folder (trash, journal) is not workspace content.
  workspace: [{ where: "workspace", rel: "", type: "dir", exclude: ["/.workspace-sync/**"] }],
  config: [{ where: "config", rel: "", type: "file", secret: true }],
  cron: [STATE_DB, { where: "state", rel: "cron", type: "dir" }],
  memory: [
    { where: "workspace", rel: "MEMORY.md", type: "file" },
    { where: "workspace", rel: "USER.md", type: "file" },
    { where: "workspace", rel: "memory", type: "dir" },
    { where: "state", rel: "memory", type: "dir" },
  ],
  sessions: [AGENT_DBS, AGENT_SESSIONS],
  transcripts: [{ where: "state", rel: "transcripts", type: "dir" }, AGENT_DBS, AGENT_SESSIONS],
  credentials: [{ where: "oauth", rel: "", type: "dir", secret: true }],
  skills: [{ where: "state", rel: "skills", type: "dir" }],
  hooks: [{ where: "state", rel: "hooks", type: "dir" }],
  extensions: [{ where: "state", rel: "extensions", type: "dir", exclude: ["node_modules/**"] }],
  env: [{ where: "state", rel: ".env", type: "file", secret: true }],
  agents: [{ where: "state", rel: "agents", type: "dir", secret: true }],
  pages: [{ where: "state", rel: "canvas/documents", type: "dir" }],
};

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
const posix = (p: string) => p.split(path.sep).join("/");

/** Archive prefix of a live path: mirrors the workspace and the state dir; anything else goes under external/. */
export function archivePathFor(livePath: string, item: BackupItem, layout: LiveLayout): string {
  const ws = path.resolve(layout.workspaceDir);
  const st = path.resolve(layout.stateDir);
  const p = path.resolve(livePath);
  if (inside(p, ws)) return posix(path.join("workspace", path.relative(ws, p)));
  if (inside(p, st)) return posix(path.join("state", path.relative(st, p)));
  return `external/${item}/${path.basename(p)}`;
}

function baseOf(c: Candidate, layout: LiveLayout): string {
  switch (c.where) {
    case "workspace":
      return layout.workspaceDir;
    case "config":
      return layout.configFile;
    case "oauth":
      return layout.env.OPENCLAW_OAUTH_DIR?.trim() || path.join(layout.stateDir, "credentials");
    case "state":
      return layout.stateDir;
  }
}

async function expand(base: string, rel: string): Promise<string[]> {
  const parts = rel.split("/").filter(Boolean);
  const star = parts.indexOf("*");
  if (star < 0) return [path.join(base, ...parts)];
  const parent = path.join(base, ...parts.slice(0, star));
  let names: string[] = [];
  try {
    names = (await readdir(parent, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    names = [];
  }
  if (names.length === 0) return [path.join(base, ...parts)]; // reported missing with its pattern
  return names.map((n) => path.join(parent, n, ...parts.slice(star + 1)));
}

/**
 * The included live paths, as configured: each item's locations before `*` expansion and whether they exist, reduced
 * to the folders (and files) they lie in — the workspace, the state dir, the config file, the credentials folder.
 * With the host name they make the snapshot's group, so adding an agent or a memory folder does not start a new group,
 * while two agents (two workspaces) or two installs (two state dirs) on one host never share one.
 */
export function includedPaths(include: readonly BackupItem[], layout: LiveLayout): string[] {
  const paths = new Set<string>();
  for (const item of include) for (const c of ITEM_MAP[item]) paths.add(path.resolve(baseOf(c, layout)));
  return [...paths].sort();
}

export interface ResolvedItems {
  sources: ItemSource[];
  missing: { item: BackupItem; livePath: string }[];
  /** Items whose locations hold credentials or tokens (config, credentials, .env, the SQLite stores). */
  secretItems: BackupItem[];
  /** Items none of whose locations exist. */
  missingItems: BackupItem[];
}

/**
 * The state dir seen from the workspace item: skipped when it lies inside the workspace (the state's own items
 * capture it, SQLite included); when it is the workspace itself the workspace item holds credentials.
 */
async function stateInWorkspace(layout: LiveLayout): Promise<{ exclude: string[]; secret: boolean }> {
  const real = async (p: string) => realpath(p).catch(() => path.resolve(p));
  const ws = await real(layout.workspaceDir);
  const st = await real(layout.stateDir);
  if (st === ws) return { exclude: [], secret: true };
  if (!inside(st, ws)) return { exclude: [], secret: false };
  const rel = posix(path.relative(ws, st)).replace(/[\\*?[\]{}]/g, "\\$&");
  return { exclude: [`/${rel}/**`], secret: false };
}

export async function resolveItems(include: readonly BackupItem[], layout: LiveLayout): Promise<ResolvedItems> {
  const sources: ItemSource[] = [];
  const missing: ResolvedItems["missing"] = [];
  const seen = new Set<string>();
  const nestedState = await stateInWorkspace(layout);
  for (const item of include) {
    for (const c0 of ITEM_MAP[item]) {
      const c = item === "workspace" ? { ...c0, exclude: [...(c0.exclude ?? []), ...nestedState.exclude], secret: c0.secret || nestedState.secret } : c0;
      for (const livePath of await expand(baseOf(c, layout), c.rel)) {
        const key = `${item}\0${livePath}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const st = await lstat(livePath).catch(() => undefined);
        // A live path that is itself a symlink (a workspace on another disk) is followed once, at the root.
        const root = st?.isSymbolicLink() ? await realpath(livePath).catch(() => undefined) : livePath;
        const target = root && root !== livePath ? await lstat(root).catch(() => undefined) : st;
        const fits = target && (c.type === "dir" ? target.isDirectory() : target.isFile());
        if (!fits || !root) {
          missing.push({ item, livePath });
          continue;
        }
        sources.push({
          item,
          livePath,
          root,
          type: c.type,
          archivePath: archivePathFor(livePath, item, layout),
          exclude: c.exclude ?? [],
          secret: !!c.secret,
        });
      }
    }
  }
  const secretItems = [...new Set(sources.filter((s) => s.secret).map((s) => s.item))];
  const missingItems = include.filter((i) => !sources.some((s) => s.item === i));
  return { sources: dedupSources(sources), missing, secretItems, missingItems };
}

/** True when `p` lies in a folder the enclosing source `o` leaves out (then `o` does not hold it). */
function excludedBy(o: ItemSource, p: string): boolean {
  const rel = posix(path.relative(path.resolve(o.livePath), p));
  const excluder = makeExcluder(o.exclude);
  const parts = rel.split("/");
  for (let i = 1; i <= parts.length; i++) if (excluder.dir(parts.slice(0, i).join("/"))) return true;
  return excluder.file(rel);
}

/** Keeps each location once: a source inside (or equal to) an earlier-kept or enclosing source is dropped. */
export function dedupSources(sources: ItemSource[]): ItemSource[] {
  const kept: ItemSource[] = [];
  for (const s of sources) {
    const p = path.resolve(s.livePath);
    const enclosed = (o: ItemSource) => o !== s && o.type === "dir" && p !== path.resolve(o.livePath) && inside(p, path.resolve(o.livePath)) && !excludedBy(o, p);
    if (sources.some(enclosed)) continue;
    if (kept.some((o) => path.resolve(o.livePath) === p)) continue;
    kept.push(s);
  }
  return kept;
}
