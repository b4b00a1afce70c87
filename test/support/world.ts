// A throwaway OpenClaw world: state dir, workspace, openclaw.json with this plugin's config.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runCli, testEnv, type CliResult } from "./cli.js";

export interface World {
  root: string;
  stateDir: string;
  workspace: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
  writeConfig(pluginConfig: unknown): Promise<void>;
  cli(...args: string[]): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export async function makeWorld(pluginConfig?: unknown, extraEnv: NodeJS.ProcessEnv = {}): Promise<World> {
  const root = await mkdtemp(path.join(os.tmpdir(), "wsync-world-"));
  const stateDir = path.join(root, "state");
  const workspace = path.join(stateDir, "workspace");
  const configFile = path.join(stateDir, "openclaw.json");
  await mkdir(workspace, { recursive: true });
  const env = testEnv({ OPENCLAW_STATE_DIR: stateDir, HOME: root, ...extraEnv });
  const world: World = {
    root,
    stateDir,
    workspace,
    configFile,
    env,
    async writeConfig(cfg) {
      const doc = { plugins: { entries: { "openclaw-workspace-sync": { enabled: true, config: cfg } } } };
      await writeFile(configFile, JSON.stringify(doc, null, 2));
    },
    cli: (...args) => runCli(args, { env }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  if (pluginConfig !== undefined) await world.writeConfig(pluginConfig);
  return world;
}
