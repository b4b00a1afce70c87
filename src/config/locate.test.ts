import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveLocations } from "./locate.js";

let root: string;
let home: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "wsync-locate-"));
  home = path.join(root, "home");
  await mkdir(path.join(home, ".openclaw"), { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeJson(file: string, text: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

const pluginDoc = (config: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ...extra, plugins: { entries: { "openclaw-workspace-sync": { enabled: true, config } } } });

describe("config file and state dir precedence", () => {
  it("defaults to ~/.openclaw/openclaw.json and ~/.openclaw/workspace", async () => {
    const loc = await resolveLocations({}, { HOME: home });
    expect(loc.configFile).toBe(path.join(home, ".openclaw", "openclaw.json"));
    expect(loc.stateDir).toBe(path.join(home, ".openclaw"));
    expect(loc.workspaceDir).toBe(path.join(home, ".openclaw", "workspace"));
    expect(loc.configExists).toBe(false);
    expect(loc.pluginRaw).toBeUndefined();
    expect(loc.rawRoot).toEqual({});
  });

  it("uses $OPENCLAW_STATE_DIR for the state dir and its openclaw.json", async () => {
    const state = path.join(root, "env-state");
    await writeJson(path.join(state, "openclaw.json"), pluginDoc({ sync: { provider: "off" } }));
    const loc = await resolveLocations({}, { HOME: home, OPENCLAW_STATE_DIR: state });
    expect(loc.stateDir).toBe(state);
    expect(loc.configFile).toBe(path.join(state, "openclaw.json"));
    expect(loc.configExists).toBe(true);
    expect(loc.pluginRaw).toEqual({ sync: { provider: "off" } });
    expect(loc.workspaceDir).toBe(path.join(state, "workspace"));
  });

  it("$OPENCLAW_CONFIG_PATH beats the state dir; --config beats both", async () => {
    const state = path.join(root, "s2");
    const envFile = await writeJson(path.join(root, "cfg", "env.json"), pluginDoc({ from: "env" }));
    const flagFile = await writeJson(path.join(root, "cfg", "flag.json"), pluginDoc({ from: "flag" }));
    const env = { HOME: home, OPENCLAW_STATE_DIR: state, OPENCLAW_CONFIG_PATH: envFile };
    expect((await resolveLocations({}, env)).pluginRaw).toEqual({ from: "env" });
    const loc = await resolveLocations({ config: flagFile }, env);
    expect(loc.configFile).toBe(flagFile);
    expect(loc.pluginRaw).toEqual({ from: "flag" });
    expect(loc.stateDir).toBe(state);
  });

  it("--state-dir beats $OPENCLAW_STATE_DIR, and its openclaw.json is read when no file is named", async () => {
    const state = path.join(root, "flag-state");
    await writeJson(path.join(state, "openclaw.json"), pluginDoc({ from: "flag-state" }));
    const loc = await resolveLocations({ stateDir: state }, { HOME: home, OPENCLAW_STATE_DIR: path.join(root, "other") });
    expect(loc.stateDir).toBe(state);
    expect(loc.configFile).toBe(path.join(state, "openclaw.json"));
    expect(loc.pluginRaw).toEqual({ from: "flag-state" });
  });

  it("expands a leading ~ in flags and variables; empty variables count as unset", async () => {
    const loc = await resolveLocations({ config: "~/x/openclaw.json", workspace: "~/ws" }, { HOME: home, OPENCLAW_STATE_DIR: "", OPENCLAW_CONFIG_PATH: "" });
    expect(loc.configFile).toBe(path.join(home, "x", "openclaw.json"));
    expect(loc.workspaceDir).toBe(path.join(home, "ws"));
    expect(loc.stateDir).toBe(path.join(home, ".openclaw"));
    const viaEnv = await resolveLocations({}, { HOME: home, OPENCLAW_STATE_DIR: "~/st" });
    expect(viaEnv.stateDir).toBe(path.join(home, "st"));
    expect(viaEnv.configFile).toBe(path.join(home, "st", "openclaw.json"));
  });
});

describe("openclaw.json reading", () => {
  it("accepts comments, trailing commas and unquoted keys", async () => {
    const file = await writeJson(
      path.join(root, "json5", "openclaw.json"),
      `{
        // hand-edited
        agents: { defaults: { workspace: "~/agent-ws", }, },
        plugins: {
          entries: {
            /* ours */
            "openclaw-workspace-sync": { config: { sync: { provider: "local", mode: "mailbox", }, }, },
          },
        },
      }`,
    );
    const loc = await resolveLocations({ config: file }, { HOME: home });
    expect(loc.configError).toBeUndefined();
    expect(loc.pluginRaw).toEqual({ sync: { provider: "local", mode: "mailbox" } });
    expect(loc.workspaceDir).toBe(path.join(home, "agent-ws"));
  });

  it("reports an unparsable file with its position instead of throwing", async () => {
    const file = await writeJson(path.join(root, "bad", "openclaw.json"), '{\n  "plugins": {\n    "x": tru\n}');
    const loc = await resolveLocations({ config: file }, { HOME: home });
    expect(loc.configExists).toBe(true);
    expect(loc.configError).toMatch(/not valid JSON5.*line [34]/);
    expect(loc.pluginRaw).toBeUndefined();
    const arr = await writeJson(path.join(root, "bad", "array.json"), "[1]");
    expect((await resolveLocations({ config: arr }, { HOME: home })).configError).toMatch(/object/);
    const dirAsFile = await resolveLocations({ config: root }, { HOME: home });
    expect(dirAsFile.configError).toMatch(/directory/);
  });
});

describe("workspace precedence", () => {
  const doc = (agents: unknown) => pluginDoc({}, { agents });
  let state: string;
  beforeAll(async () => {
    state = path.join(root, "ws-state");
    await mkdir(state, { recursive: true });
  });
  const write = (agents: unknown) => writeJson(path.join(state, "openclaw.json"), doc(agents));
  const locate = (opts: Parameters<typeof resolveLocations>[0], env: Record<string, string> = {}) =>
    resolveLocations(opts, { HOME: home, OPENCLAW_STATE_DIR: state, ...env });

  it("--workspace beats $OPENCLAW_WORKSPACE_DIR beats agents.defaults.workspace beats <stateDir>/workspace", async () => {
    await write({ defaults: { workspace: "/cfg/ws" } });
    expect((await locate({ workspace: "/flag/ws" }, { OPENCLAW_WORKSPACE_DIR: "/env/ws" })).workspaceDir).toBe("/flag/ws");
    expect((await locate({}, { OPENCLAW_WORKSPACE_DIR: "/env/ws" })).workspaceDir).toBe("/env/ws");
    expect((await locate({})).workspaceDir).toBe("/cfg/ws");
    await write({});
    expect((await locate({})).workspaceDir).toBe(path.join(state, "workspace"));
  });

  it("--agent ID uses that agent's workspace from agents.list, else <stateDir>/workspace-<id>", async () => {
    await write({ defaults: { workspace: "/cfg/default" }, list: [{ id: "main", default: true }, { id: "Work", workspace: "~/work-ws" }, { id: "side" }] });
    const work = await locate({ agent: "work" }, { OPENCLAW_WORKSPACE_DIR: "/env/ws" });
    expect(work.workspaceDir).toBe(path.join(home, "work-ws"));
    expect(work.agentId).toBe("work");
    expect((await locate({ agent: "side" })).workspaceDir).toBe(path.join(state, "workspace-side"));
    expect((await locate({ agent: "ghost" })).workspaceDir).toBe(path.join(state, "workspace-ghost"));
    // The default agent keeps OpenClaw's default chain.
    expect((await locate({ agent: "main" })).workspaceDir).toBe("/cfg/default");
    expect((await locate({ agent: "main" }, { OPENCLAW_WORKSPACE_DIR: "/env/ws" })).workspaceDir).toBe("/env/ws");
    // --workspace still wins over --agent.
    expect((await locate({ agent: "work", workspace: "/flag" })).workspaceDir).toBe("/flag");
  });

  it("the default agent is the one marked default, else the first listed", async () => {
    await write({ list: [{ id: "alpha" }, { id: "beta" }] });
    expect((await locate({ agent: "alpha" })).workspaceDir).toBe(path.join(state, "workspace"));
    expect((await locate({ agent: "beta" })).workspaceDir).toBe(path.join(state, "workspace-beta"));
    await write({ list: [{ id: "alpha" }, { id: "beta", default: true }] });
    expect((await locate({ agent: "beta" })).workspaceDir).toBe(path.join(state, "workspace"));
    expect((await locate({ agent: "alpha" })).workspaceDir).toBe(path.join(state, "workspace-alpha"));
  });

  it("rejects an agent id that could name a path", async () => {
    await write({});
    await expect(locate({ agent: "../etc" })).rejects.toThrow(/not a valid agent id/);
  });
});
