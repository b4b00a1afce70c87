import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { BusyFailure, FlagError, OperationError, UsageError } from "../util/errors.js";
import { describeFailure, reportFailure } from "./failure.js";

describe("failure output", () => {
  const sync = new Command("workspace-sync").command("sync");

  it("expected errors: the message only; a flag error adds one --help hint line", () => {
    expect(describeFailure(new OperationError("the remote did not answer"), { cmd: sync })).toBe("the remote did not answer");
    expect(describeFailure(new FlagError("--resync and --direction cannot be combined"), { cmd: sync })).toBe(
      "--resync and --direction cannot be combined\nsee 'workspace-sync sync --help'",
    );
    expect(describeFailure(new UsageError("config is invalid"), { cmd: sync, verbose: true })).toBe("config is invalid"); // no stack even with -v
  });

  it("a bug: one line saying so and how to see more; the stack only with -v", () => {
    const bug = new TypeError("cannot read properties of undefined (reading 'x')");
    expect(describeFailure(bug, {})).toBe("cannot read properties of undefined (reading 'x') (unexpected error: run with -v for details)");
    expect(describeFailure(bug, { verbose: true })).toMatch(/^TypeError: cannot read .*\n\s+at /);
  });

  it("returns the exit code the error carries", () => {
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    expect(reportFailure(new BusyFailure("busy"), { stream: sink })).toBe(3);
    expect(reportFailure(new FlagError("bad"), { stream: sink })).toBe(2);
    expect(reportFailure(new Error("bug"), { stream: sink })).toBe(1);
  });
});
