// The whole chain as the CLI runs it: locate, .env, ${VAR}, validation — on real files in a temp dir.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfigFromLocations } from "./index.js";

let root: string;
let state: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "wsync-index-"));
  state = path.join(root, "state");
  await mkdir(state, { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ HOME: root, OPENCLAW_STATE_DIR: state, ...extra });
async function writeConfig(pluginConfig: unknown, extra: Record<string, unknown> = {}) {
  const doc = { ...extra, plugins: { entries: { "openclaw-workspace-sync": { enabled: true, config: pluginConfig } } } };
  await writeFile(path.join(state, "openclaw.json"), `// written by a test\n${JSON.stringify(doc, null, 2).replace(/\n}$/, ",\n}")}`);
}
const BACKUP = { provider: "local", local: { path: "${NAS}" }, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}" };

describe("loadConfigFromLocations", () => {
  it("no config file: nothing configured, no problems", async () => {
    const r = await loadConfigFromLocations({}, env());
    expect(r.locations.configExists).toBe(false);
    expect(r.config).toEqual({});
    expect(r.problems).toEqual([]);
  });

  it("resolves placeholders from <stateDir>/.env, with the process env winning", async () => {
    await writeConfig({ backup: BACKUP });
    await writeFile(path.join(state, ".env"), "BACKUP_PASSPHRASE=from-dotenv\nexport NAS=/mnt/dotenv\n");
    const r = await loadConfigFromLocations({}, env({ NAS: "/mnt/process" }));
    expect(r.problems).toEqual([]);
    expect(r.config.backup!.passphrase).toBe("from-dotenv");
    expect(r.config.backup!.remote.local).toEqual({ path: "/mnt/process" });
    expect(r.env.NAS).toBe("/mnt/process");
    expect(r.env.BACKUP_PASSPHRASE).toBe("from-dotenv");
  });

  it("the env block of openclaw.json fills what the environment and .env do not", async () => {
    await writeConfig({ backup: BACKUP }, { env: { NAS: "/mnt/config", vars: { BACKUP_PASSPHRASE: "from-config" } } });
    await writeFile(path.join(state, ".env"), "NAS=/mnt/dotenv\n");
    const r = await loadConfigFromLocations({}, env());
    expect(r.problems).toEqual([]);
    expect(r.config.backup!.remote.local).toEqual({ path: "/mnt/dotenv" });
    expect(r.config.backup!.passphrase).toBe("from-config");
  });

  it("an unset variable is a problem naming key and variable; nothing secret is printed", async () => {
    await writeConfig({ backup: BACKUP });
    const r = await loadConfigFromLocations({}, env({ NAS: "/mnt/x" }));
    expect(r.problems).toEqual([{ key: "backup.passphrase", message: expect.stringContaining("BACKUP_PASSPHRASE") }]);
  });

  it("a broken openclaw.json is one problem keyed by the file", async () => {
    await writeFile(path.join(state, "openclaw.json"), "{ plugins: ");
    const r = await loadConfigFromLocations({}, env());
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.key).toBe(path.join(state, "openclaw.json"));
    expect(r.problems[0]!.message).toMatch(/JSON5/);
    expect(r.config).toEqual({});
  });

  it("an unreadable .env is reported, not thrown", async () => {
    await writeConfig({ sync: { provider: "off" } });
    await mkdir(path.join(state, ".env"));
    const r = await loadConfigFromLocations({}, env());
    expect(r.problems.map((p) => p.key)).toEqual([path.join(state, ".env")]);
  });

  it("uses the agent's workspace with --agent and reads the config named by --config", async () => {
    const file = path.join(root, "elsewhere.json");
    await writeFile(
      file,
      JSON.stringify({
        agents: { list: [{ id: "main" }, { id: "ops", workspace: "/srv/ops" }] },
        plugins: { entries: { "openclaw-workspace-sync": { config: { provider: "local", mode: "mirror", local: { path: "/mnt/nas" } } } } },
      }),
    );
    const r = await loadConfigFromLocations({ config: file, agent: "ops" }, env());
    expect(r.locations.workspaceDir).toBe("/srv/ops");
    expect(r.config.sync!.mode).toBe("mirror");
    expect(r.problems).toEqual([]);
  });
});
