// Where things are for one invocation: the OpenClaw config file, the state dir and the agent workspace
// (PRODUCT.md §1 precedence: flag, then environment, then openclaw.json, then OpenClaw's defaults).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../util/errors.js";
import { type Env, resolveStateDir, resolveUserPath } from "./home.js";
import { parseJson5 } from "./json5.js";

export const PLUGIN_ID = "openclaw-workspace-sync";
/** Where the plugin config sits inside openclaw.json, for messages. */
export const PLUGIN_CONFIG_KEY = `plugins.entries.${PLUGIN_ID}.config`;
/** OpenClaw's id for the agent when agents.list names none. */
const DEFAULT_AGENT_ID = "main";

export interface LocateOptions {
  config?: string;
  stateDir?: string;
  workspace?: string;
  agent?: string;
}

export interface Locations {
  configFile: string;
  configExists: boolean;
  stateDir: string;
  workspaceDir: string;
  /** openclaw.json as parsed ({} when missing or unreadable). */
  rawRoot: Record<string, unknown>;
  /** plugins.entries["openclaw-workspace-sync"].config, untouched (undefined when absent). */
  pluginRaw: unknown;
  /** Set when the config file exists but cannot be read or parsed: the caller reports it as a problem keyed by the file. */
  configError?: string;
  /** The agent whose workspace was chosen (normalised like OpenClaw: lower case). */
  agentId?: string;
  /** Where the workspace path came from, for messages about a workspace that does not exist. */
  workspaceOrigin: WorkspaceOrigin;
}

export interface WorkspaceOrigin {
  /** The flag, variable or key that named the workspace ("default" = OpenClaw's <stateDir>/workspace[-<agent>]). */
  from: "--workspace" | "$OPENCLAW_WORKSPACE_DIR" | "agents.list" | "agents.defaults.workspace" | "default";
  /** --agent as given (normalised). */
  agent?: string;
  /** The agent is listed in openclaw.json (or is the default agent). */
  agentListed: boolean;
  /** Agent ids listed in openclaw.json. */
  knownAgents: string[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A flag or variable set to "" counts as not given (an empty `export VAR=` must not point at the cwd). */
const given = (v: string | undefined): string | undefined => (v && v.trim() ? v : undefined);

function pick(obj: unknown, ...keys: string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

const nonEmptyString = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);

export function normalizeAgentId(id: string): string {
  const norm = id.trim().toLowerCase();
  // Agent ids become folder names (workspace-<id>): never let one carry a path.
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(norm)) {
    throw new UsageError(`--agent ${JSON.stringify(id)} is not a valid agent id (letters, digits, "-" and "_")`);
  }
  return norm;
}

interface AgentEntry {
  id: string;
  workspace?: string;
  default: boolean;
}

function agentEntries(root: Record<string, unknown>): AgentEntry[] {
  const list = pick(root, "agents", "list");
  if (!Array.isArray(list)) return [];
  const out: AgentEntry[] = [];
  for (const item of list) {
    const id = nonEmptyString(pick(item, "id"));
    if (!id) continue;
    out.push({ id: id.toLowerCase(), workspace: nonEmptyString(pick(item, "workspace")), default: pick(item, "default") === true });
  }
  return out;
}

/** OpenClaw's default agent: the entry marked default, else the first entry, else "main". */
function defaultAgentId(entries: AgentEntry[]): string {
  return (entries.find((e) => e.default) ?? entries[0])?.id ?? DEFAULT_AGENT_ID;
}

function workspaceFor(
  opts: LocateOptions,
  env: Env,
  root: Record<string, unknown>,
  stateDir: string,
): { dir: string; agentId?: string; origin: WorkspaceOrigin } {
  const entries = agentEntries(root);
  const defaultId = defaultAgentId(entries);
  const agentId = given(opts.agent) ? normalizeAgentId(opts.agent!) : undefined;
  const isDefault = agentId === undefined || agentId === defaultId;
  const origin = (from: WorkspaceOrigin["from"]): WorkspaceOrigin => ({
    from,
    ...(agentId !== undefined ? { agent: agentId } : {}),
    agentListed: isDefault || entries.some((e) => e.id === agentId),
    knownAgents: entries.map((e) => e.id),
  });
  const flag = given(opts.workspace);
  if (flag) return { dir: resolveUserPath(flag, env), origin: origin("--workspace") };
  // $OPENCLAW_WORKSPACE_DIR names the default agent's workspace; another agent keeps its own.
  const envDir = given(env.OPENCLAW_WORKSPACE_DIR);
  if (envDir && isDefault) return { dir: resolveUserPath(envDir, env), agentId, origin: origin("$OPENCLAW_WORKSPACE_DIR") };
  if (agentId !== undefined) {
    const own = entries.find((e) => e.id === agentId)?.workspace;
    if (own) return { dir: resolveUserPath(own, env), agentId, origin: origin("agents.list") };
  }
  if (isDefault) {
    const configured = nonEmptyString(pick(root, "agents", "defaults", "workspace"));
    if (configured) return { dir: resolveUserPath(configured, env), agentId, origin: origin("agents.defaults.workspace") };
    return { dir: path.join(stateDir, "workspace"), agentId, origin: origin("default") };
  }
  return { dir: path.join(stateDir, `workspace-${agentId}`), agentId, origin: origin("default") };
}

async function readRoot(file: string): Promise<{ exists: boolean; root: Record<string, unknown>; error?: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { exists: false, root: {} };
    return {
      exists: true,
      root: {},
      error: code === "EISDIR" ? "is a directory; point --config at the openclaw.json file" : `cannot be read (${code ?? "unknown error"}); check its permissions`,
    };
  }
  let parsed: unknown;
  try {
    parsed = parseJson5(text);
  } catch (err) {
    return { exists: true, root: {}, error: `is not valid JSON5: ${(err as Error).message}` };
  }
  if (!isPlainObject(parsed)) return { exists: true, root: {}, error: "must hold a JSON object at the top level" };
  return { exists: true, root: parsed };
}

export async function resolveLocations(opts: LocateOptions, env: Env): Promise<Locations> {
  const stateDir = resolveStateDir(opts.stateDir, env);

  const configFlag = given(opts.config) ?? given(env.OPENCLAW_CONFIG_PATH);
  // Otherwise openclaw.json sits in the state dir: $OPENCLAW_STATE_DIR or ~/.openclaw as PRODUCT.md §1 says, and
  // also a --state-dir given on the command line (recovering an old state dir must read that dir's config).
  const configFile = configFlag ? resolveUserPath(configFlag, env) : path.join(stateDir, "openclaw.json");

  const { exists, root, error } = await readRoot(configFile);
  const { dir, agentId, origin } = workspaceFor(opts, env, root, stateDir);
  return {
    configFile,
    configExists: exists,
    stateDir,
    workspaceDir: dir,
    workspaceOrigin: origin,
    rawRoot: root,
    pluginRaw: pick(root, "plugins", "entries", PLUGIN_ID, "config"),
    ...(error ? { configError: error } : {}),
    ...(agentId ? { agentId } : {}),
  };
}
