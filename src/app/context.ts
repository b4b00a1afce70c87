// The resolved world of one invocation (CLI or plugin): where things are, the validated config, rclone.
import { loadConfigFromLocations } from "../config/index.js";
import { registerConfigSecrets } from "./child-secrets.js";
import type { ConfigProblem, PluginConfig } from "../config/types.js";
import type { WorkspaceOrigin } from "../config/index.js";
import path from "node:path";
import { productDir } from "../state/paths.js";
import { findRclone, type RcloneBinary } from "../rclone/binary.js";
import { UsageError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";

export interface LocationOptions {
  config?: string;
  stateDir?: string;
  workspace?: string;
  agent?: string;
}

export interface AppContext {
  configFile: string;
  configExists: boolean;
  stateDir: string;
  workspaceDir: string;
  /** Where the workspace path came from (standalone CLI); the plugin takes the host's agent workspace. */
  workspaceOrigin?: WorkspaceOrigin;
  config: PluginConfig;
  problems: ConfigProblem[];
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Aborted when the invocation is interrupted (Ctrl-C, SIGTERM): rclone children are stopped, state recorded. */
  signal?: AbortSignal;
}

export async function loadContext(opts: LocationOptions, env: NodeJS.ProcessEnv, log: Logger): Promise<AppContext> {
  const loaded = await loadConfigFromLocations(opts, env);
  registerConfigSecrets(loaded.config);
  return {
    configFile: loaded.locations.configFile,
    configExists: loaded.locations.configExists,
    stateDir: loaded.locations.stateDir,
    workspaceDir: loaded.locations.workspaceDir,
    workspaceOrigin: loaded.locations.workspaceOrigin,
    config: loaded.config,
    problems: loaded.problems,
    env,
    log,
  };
}

export class ConfigInvalidError extends UsageError {
  constructor(
    readonly problems: ConfigProblem[],
    file: string,
  ) {
    super(
      `the configuration in ${file} has ${problems.length} problem(s):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigInvalidError";
  }
}

/** Every problem, listed at once, stops any operation (exit 2). */
export function assertValid(ctx: AppContext): void {
  if (ctx.problems.length > 0) throw new ConfigInvalidError(ctx.problems, ctx.configFile);
}

export async function rcloneFor(ctx: AppContext): Promise<RcloneBinary> {
  return findRclone(ctx.config.rclonePath, ctx.env.PATH, path.join(productDir(ctx.stateDir), "rclone-version.json"));
}
