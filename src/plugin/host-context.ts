// Builds the AppContext (the world the engines work in) from what the host says: its state dir, the agent's real
// workspace, the plugin config the gateway validated, its logger. Same engines and same persisted state as the
// standalone CLI, so `workspace-sync status` from a shell sees what the service did.
import path from "node:path";
import type { AppContext } from "../app/context.js";
import type { Logger } from "../util/logger.js";
import type { HostLogger, HostRuntime } from "./host-api.js";

export const PLUGIN_ID = "openclaw-workspace-sync";

export function adaptLogger(host: HostLogger, prefix = "workspace-sync: "): Logger {
  return {
    debug: (m) => host.debug?.(`${prefix}${m}`),
    info: (m) => host.info(`${prefix}${m}`),
    warn: (m) => host.warn(`${prefix}${m}`),
    error: (m) => host.error(`${prefix}${m}`),
  };
}

/** The agent whose workspace the sync pair uses: the host's default agent (explicit default, else the only one, else "main"). */
export function defaultAgentId(config: object): string {
  const agents = (config as { agents?: { entries?: Record<string, { default?: unknown }>; list?: { id?: string; default?: unknown }[] } }).agents;
  const entries = agents?.entries && typeof agents.entries === "object" ? Object.entries(agents.entries) : [];
  const marked = entries.find(([, e]) => e && e.default === true);
  if (marked) return marked[0];
  if (entries.length === 1 && entries[0]) return entries[0][0];
  const list = Array.isArray(agents?.list) ? agents.list : [];
  const listed = list.find((e) => e?.default === true) ?? (list.length === 1 ? list[0] : undefined);
  if (listed?.id) return listed.id;
  return "main";
}

/** Raw plugin config as the host holds it: `api.pluginConfig`, else `plugins.entries.<id>.config`. */
export function rawPluginConfig(pluginConfig: unknown, hostConfig: object): unknown {
  if (pluginConfig && typeof pluginConfig === "object") return pluginConfig;
  const entry = (hostConfig as { plugins?: { entries?: Record<string, { config?: unknown }> } }).plugins?.entries?.[PLUGIN_ID];
  return entry?.config ?? {};
}

export interface HostLocations {
  stateDir: string;
  workspaceDir: string;
  agentId: string;
  configFile: string;
}

/** Where things are, per the host: service context first, then the runtime's resolvers. */
export function hostLocations(
  opts: { stateDir?: string; workspaceDir?: string; hostConfig: object; runtime?: Pick<HostRuntime, "agent" | "state"> },
  env: NodeJS.ProcessEnv,
): HostLocations {
  const agentId = defaultAgentId(opts.hostConfig);
  const stateDir = path.resolve(opts.stateDir ?? opts.runtime?.state.resolveStateDir(env) ?? env.OPENCLAW_STATE_DIR ?? path.join(env.HOME ?? ".", ".openclaw"));
  let workspaceDir = opts.workspaceDir;
  if (!workspaceDir && opts.runtime) {
    try {
      workspaceDir = opts.runtime.agent.resolveAgentWorkspaceDir(opts.hostConfig, agentId, env);
    } catch {
      workspaceDir = undefined;
    }
  }
  const configFile = env.OPENCLAW_CONFIG_PATH ? path.resolve(env.OPENCLAW_CONFIG_PATH) : path.join(stateDir, "openclaw.json");
  return { stateDir, workspaceDir: path.resolve(workspaceDir ?? path.join(stateDir, "workspace")), agentId, configFile };
}

/**
 * Validates the plugin config the host holds. ${VAR} placeholders resolve from the process env, then
 * `<stateDir>/.env` (as the standalone CLI does), so the gateway and a shell see the same values.
 */
export async function contextFromHost(loc: HostLocations, rawConfig: unknown, processEnv: NodeJS.ProcessEnv, log: Logger): Promise<AppContext> {
  // Imported here, not at the top: the config layer (zod) is the heaviest module the plugin has, and register()
  // must stay cheap for the host's many registration passes.
  const { loadPluginConfig, mergeEnv, readDotEnv } = await import("../config/index.js");
  const problems: AppContext["problems"] = [];
  let dotEnv: Record<string, string> = {};
  try {
    dotEnv = await readDotEnv(path.join(loc.stateDir, ".env"));
  } catch (err) {
    problems.push({ key: path.join(loc.stateDir, ".env"), message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})` });
  }
  const env = mergeEnv(processEnv, dotEnv) as NodeJS.ProcessEnv;
  const loaded = loadPluginConfig(rawConfig, env);
  const config = loaded.config;
  (await import("../app/child-secrets.js")).registerConfigSecrets(config);
  problems.push(...loaded.problems);
  return {
    configFile: loc.configFile,
    configExists: true,
    stateDir: loc.stateDir,
    workspaceDir: loc.workspaceDir,
    config,
    problems,
    env,
    log,
  };
}
