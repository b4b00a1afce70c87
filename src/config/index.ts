// Public API of the config layer: where things are, what the user asked for, validated once with every problem.
import path from "node:path";
import type { Env } from "./home.js";
import { loadPluginConfig } from "./load.js";
import { type LocateOptions, type Locations, resolveLocations } from "./locate.js";
import { mergeEnv, readDotEnv } from "./resolve-vars.js";
import type { ConfigProblem, PluginConfig } from "./types.js";
import { isPlainObject } from "./walk.js";

export type { Env } from "./home.js";
export { expandHome, resolveUserPath } from "./home.js";
export { parseJson5, Json5SyntaxError } from "./json5.js";
export { DEFAULT_BACKUP_INCLUDE, loadPluginConfig, type LoadResult } from "./load.js";
export { type LocateOptions, type Locations, normalizeAgentId, type WorkspaceOrigin, PLUGIN_CONFIG_KEY, PLUGIN_ID, resolveLocations } from "./locate.js";
export { redactConfig, REDACTED } from "./redact.js";
export { mergeEnv, parseDotEnv, readDotEnv, resolveVars, type ResolvedVars } from "./resolve-vars.js";
export { isSecretKey, isSecretPath, MAX_TIMER_SECONDS } from "./schema.js";
export * from "./types.js";

export interface LoadedConfig {
  locations: Locations;
  config: PluginConfig;
  problems: ConfigProblem[];
  /**
   * The environment placeholders were resolved from: the given env, then `<stateDir>/.env`, then the `env` block
   * of openclaw.json (earlier wins). Hand it to rclone so a CLI run sees what the gateway would.
   */
  env: Env;
}

/** Variables from openclaw.json's `env` block (`env.KEY` and `env.vars.KEY`), which OpenClaw applies last. */
function configEnvBlock(root: Record<string, unknown>): Env {
  const block = root.env;
  if (!isPlainObject(block)) return {};
  const out: Env = {};
  const take = (obj: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(obj)) if (typeof v === "string") out[k] = v;
  };
  if (isPlainObject(block.vars)) take(block.vars);
  take(block);
  return out;
}

/** Locate openclaw.json and the dirs, read `<stateDir>/.env` (the process env wins), resolve ${VAR}, validate. */
export async function loadConfigFromLocations(opts: LocateOptions, env: Env): Promise<LoadedConfig> {
  const locations = await resolveLocations(opts, env);
  const problems: ConfigProblem[] = [];
  if (locations.configError) problems.push({ key: locations.configFile, message: locations.configError });
  const dotEnvFile = path.join(locations.stateDir, ".env");
  let dotEnv: Env = {};
  try {
    dotEnv = await readDotEnv(dotEnvFile);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
    problems.push({ key: dotEnvFile, message: `cannot be read (${code}); ${"${VAR}"} placeholders defined there stay unresolved` });
  }
  const merged = mergeEnv(env, dotEnv, configEnvBlock(locations.rawRoot));
  const loaded = loadPluginConfig(locations.pluginRaw, merged);
  return { locations, config: loaded.config, problems: [...problems, ...loaded.problems], env: merged };
}
