// `openclaw workspace-sync setup` in plugin mode writes openclaw.json through the host's config API when the host
// has one (after keeping a copy of the file), and writes the file itself when it has none or cannot be asked.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hostConfigWriter, registerCliCommands } from "./cli.js";
import type { HostConfigMutation, HostRuntime } from "./host-api.js";

function runtimeWith(config?: HostRuntime["config"]): () => HostRuntime {
  return () => ({
    agent: { resolveAgentWorkspaceDir: () => "/ws" },
    system: { enqueueSystemEvent: () => true, requestHeartbeat: () => {} },
    state: { resolveStateDir: () => "/state" },
    ...(config ? { config } : {}),
  });
}

describe("plugin-mode config writes", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it("uses runtime.config.mutateConfigFile with afterWrite auto; none when the runtime has no config API or cannot be read", async () => {
    const calls: HostConfigMutation[] = [];
    const writer = hostConfigWriter(runtimeWith({ mutateConfigFile: async (p) => void calls.push(p) }));
    expect(writer).toBeDefined();
    const draft: Record<string, unknown> = { a: 1 };
    await writer!((d) => void (d.b = 2));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.afterWrite).toEqual({ mode: "auto" });
    calls[0]!.mutate(draft);
    expect(draft).toEqual({ a: 1, b: 2 });
    expect(hostConfigWriter(runtimeWith())).toBeUndefined();
    expect(
      hostConfigWriter(() => {
        throw new Error("runtime is unavailable in cli-metadata mode");
      }),
    ).toBeUndefined();
    expect(hostConfigWriter(undefined)).toBeUndefined();
  });

  it("`workspace-sync setup --yes` under the host: the config goes through the host API, a copy of the file stays", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "plugin-setup-"));
    try {
      const stateDir = path.join(root, "state");
      const configFile = path.join(stateDir, "openclaw.json");
      await mkdir(stateDir, { recursive: true });
      await writeFile(configFile, '{ "gateway": { "port": 1 } }');
      let hostDraft: Record<string, unknown> | undefined;
      const runtime = runtimeWith({
        mutateConfigFile: async (p) => {
          hostDraft = JSON.parse(await readFile(configFile, "utf8")) as Record<string, unknown>;
          p.mutate(hostDraft);
        },
      });
      const program = new Command("openclaw").exitOverride();
      await registerCliCommands({ program, workspaceDir: path.join(root, "ws"), logger: { info() {}, warn() {}, error() {} } }, runtime);
      vi.spyOn(process.stderr, "write").mockImplementation(() => true);
      await program.parseAsync(
        [
          "workspace-sync", "--state-dir", stateDir, "setup", "--yes",
          "--provider", "local", "--local-folder", path.join(root, "remote"), "--mode", "mirror",
          "--no-backup", "--no-check", "--no-first-sync",
        ],
        { from: "user" },
      );
      expect(process.exitCode ?? 0).toBe(0);
      expect(hostDraft).toMatchObject({
        gateway: { port: 1 },
        plugins: { entries: { "openclaw-workspace-sync": { enabled: true, config: { sync: { provider: "local", mode: "mirror" } } } } },
      });
      // The host did the write (our fake does not persist): the file itself is untouched, and its copy exists.
      expect(JSON.parse(await readFile(configFile, "utf8"))).toEqual({ gateway: { port: 1 } });
      expect((await readdir(stateDir)).filter((f) => f.endsWith(".bak"))).toHaveLength(1);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
