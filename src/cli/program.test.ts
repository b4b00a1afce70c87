// One command tree: the standalone program and `openclaw workspace-sync` are built from the same table, with the
// same global options and the same commands and options below them.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { registerCliCommands } from "../plugin/cli.js";
import { buildProgram } from "./program.js";
import { COMMANDS, GLOBAL_OPTIONS } from "./spec.js";

function shape(cmd: Command): unknown {
  return {
    options: cmd.options.map((o) => o.flags).filter((f) => f !== "-V, --version"),
    commands: Object.fromEntries(cmd.commands.map((c) => [c.name(), shape(c)])),
  };
}

describe("command tree", () => {
  it("the bin and the plugin mount the same commands, options and global options", async () => {
    const standalone = buildProgram({ env: {}, displayName: "workspace-sync" });
    const host = new Command("openclaw");
    await registerCliCommands({ program: host, logger: { info() {}, warn() {}, error() {} } });
    const mounted = host.commands.find((c) => c.name() === "workspace-sync")!;
    expect(shape(mounted)).toEqual(shape(standalone));
    expect(mounted.options.map((o) => o.flags)).toEqual(GLOBAL_OPTIONS.map((o) => o.flags));
    expect(standalone.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    expect(standalone.commands.find((c) => c.name() === "schedule")!.commands.map((c) => c.name())).toEqual(["install", "remove", "status"]);
  });

  it("loads no command code to build the tree (each action imports its module when it runs)", () => {
    for (const spec of COMMANDS) for (const c of [spec, ...(spec.subcommands ?? [])]) if (!c.subcommands) expect(typeof c.load, c.name).toBe("function");
  });

  it("under a host that parses its options positionally, the global options still work after the command", async () => {
    const host = new Command("openclaw").enablePositionalOptions().exitOverride();
    await registerCliCommands({ program: host, logger: { info() {}, warn() {}, error() {} } });
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "ws-positional-"));
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      await host.parseAsync(["workspace-sync", "schedule", "status", "-q", "--state-dir", stateDir], { from: "user" });
      expect(process.exitCode ?? 0).toBe(0);
      expect(out).not.toHaveBeenCalled(); // -q reached the command: nothing printed
    } finally {
      out.mockRestore();
      process.exitCode = undefined;
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
