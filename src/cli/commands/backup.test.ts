import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addBackupCommands } from "./backup.js";

describe("backup command group", () => {
  it("offers now, list, status, verify, ls, find, diff, export, restore and prune with their options", () => {
    const program = new Command("workspace-sync");
    const backup = addBackupCommands(program, async () => {
      throw new Error("not called");
    });
    const sub = Object.fromEntries(backup.commands.map((c) => [c.name(), c.options.map((o) => o.long)]));
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
});
