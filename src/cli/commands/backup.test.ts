// The backup group is declared in the command table (cli/spec.ts) like every other command: the same subcommands,
// options and arguments on both surfaces, each subcommand's code loaded only when it runs.
import { describe, expect, it } from "vitest";
import { buildProgram } from "../program.js";
import { COMMANDS } from "../spec.js";
import * as backup from "./backup.js";

describe("backup command group", () => {
  const program = buildProgram({ env: {}, displayName: "workspace-sync" });
  const group = program.commands.find((c) => c.name() === "backup")!;

  it("offers now, list, status, verify, ls, find, diff, export, restore and prune with their options", () => {
    const sub = Object.fromEntries(group.commands.map((c) => [c.name(), c.options.map((o) => o.long)]));
    expect(Object.keys(sub)).toEqual(["now", "list", "status", "verify", "ls", "find", "diff", "export", "restore", "prune"]);
    expect(sub.restore).toEqual(["--snapshot", "--to", "--path", "--dry-run", "--force", "--identity", "--json"]);
    expect(sub.verify).toEqual(["--snapshot", "--all", "--identity", "--read-data", "--subset", "--json"]);
    expect(sub.ls).toEqual(["--long", "--recursive", "--identity", "--json"]);
    expect(sub.find).toEqual(["--all", "--host", "--snapshot", "--ignore-case", "--long", "--identity", "--json"]);
    expect(sub.diff).toEqual(["--metadata", "--identity", "--json"]);
    expect(sub.export).toEqual(["--snapshot", "--to", "--force", "--identity", "--json"]);
    expect(sub.list).toEqual(["--all", "--host", "--json"]);
    expect(sub.prune).toEqual(["--dry-run", "--include-legacy", "--json"]);
  });

  it("keeps the arguments, defaults and variadic options", () => {
    const cmd = (name: string) => group.commands.find((c) => c.name() === name)!;
    expect(cmd("ls").registeredArguments.map((a) => [a.name(), a.required, a.variadic, a.defaultValue])).toEqual([
      ["snapshot", false, false, "latest"],
      ["path", false, true, undefined],
    ]);
    expect(cmd("find").registeredArguments.map((a) => [a.name(), a.required, a.variadic])).toEqual([["pattern", true, true]]);
    expect(cmd("diff").registeredArguments.map((a) => a.name())).toEqual(["a", "b"]);
    expect(cmd("restore").options.find((o) => o.long === "--path")!.variadic).toBe(true);
    expect(cmd("find").options.find((o) => o.long === "--snapshot")!.variadic).toBe(true);
    expect(cmd("restore").options.find((o) => o.long === "--snapshot")!.defaultValue).toBe("latest");
  });

  it("every subcommand's code is a function of the backup module, loaded on use", async () => {
    const spec = COMMANDS.find((c) => c.name === "backup")!;
    for (const s of spec.subcommands!) expect(Object.values(backup)).toContain(await s.load!());
  });
});
