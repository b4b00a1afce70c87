import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { HostApi, RegistrationMode } from "./host-api.js";
import { registerWorkspaceSync } from "./register.js";

function fakeApi(mode: RegistrationMode) {
  const calls = { cli: [] as unknown[], services: [] as { id: string }[], hooks: [] as string[], commands: [] as string[] };
  const api: HostApi = {
    id: "openclaw-workspace-sync",
    registrationMode: mode,
    config: {},
    pluginConfig: { sync: { provider: "local", local: { path: "/tmp/x" }, mode: "mailbox", interval: 60 } },
    get runtime(): never {
      throw new Error(`runtime is unavailable in ${mode} mode`);
    },
    logger: { info() {}, warn() {}, error() {} },
    registerCli: (registrar, opts) => void calls.cli.push({ registrar, opts }),
    registerService: (s) => void calls.services.push(s),
    registerCommand: (c) => void calls.commands.push(c.name),
    on: ((name: string) => void calls.hooks.push(name)) as HostApi["on"],
  };
  return { api, calls };
}

describe("register()", () => {
  afterEach(() => vi.useRealTimers());

  it("cli-metadata mode: only the CLI descriptor, never touches api.runtime", () => {
    const { api, calls } = fakeApi("cli-metadata");
    registerWorkspaceSync(api);
    expect(calls.cli).toEqual([
      { registrar: expect.any(Function), opts: { descriptors: [expect.objectContaining({ name: "workspace-sync", hasSubcommands: true })] } },
    ]);
    expect(calls.services).toEqual([]);
    expect(calls.hooks).toEqual([]);
    expect(calls.commands).toEqual([]);
  });

  it("full mode: CLI, one service, both session hooks and the three slash commands, with no side effect", () => {
    vi.useFakeTimers();
    const { api, calls } = fakeApi("full");
    registerWorkspaceSync(api);
    expect(calls.cli).toHaveLength(1);
    expect(calls.services.map((s) => s.id)).toEqual(["workspace-sync"]);
    expect(calls.hooks.sort()).toEqual(["session_end", "session_start"]);
    expect(calls.commands.sort()).toEqual(["backup-now", "sync-now", "sync-status"]);
    // nothing armed, nothing started: the service starts only when the gateway calls start()
    expect(vi.getTimerCount()).toBe(0);
  });

  it("is idempotent across repeated calls (the host registers several times per process)", () => {
    for (const mode of ["cli-metadata", "discovery", "full", "full"] as const) {
      const { api, calls } = fakeApi(mode);
      expect(() => registerWorkspaceSync(api)).not.toThrow();
      expect(calls.cli).toHaveLength(1);
    }
  });

  it("is cheap (prints the measured time; no timing assertion)", () => {
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const { api } = fakeApi(i % 2 ? "full" : "cli-metadata");
      const t = performance.now();
      registerWorkspaceSync(api);
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)] ?? 0;
    const p99 = samples[Math.floor(samples.length * 0.99)] ?? 0;
    console.log(`register(): median ${median.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms over ${samples.length} calls (module already loaded)`);
    expect(samples).toHaveLength(200);
  });
});
