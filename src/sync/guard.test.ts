import { describe, expect, it } from "vitest";
import { checkDeletions, DeletionGuardError, describeStoppedDeletions, parseMaxDelete } from "./guard.js";

describe("deletion guard", () => {
  it("allows up to maxDelete percent and stops above it", () => {
    expect(() => checkDeletions({ destinationFiles: 10, deletes: ["a", "b", "c", "d", "e"] }, 50, "remote")).not.toThrow();
    expect(() => checkDeletions({ destinationFiles: 10, deletes: ["a", "b", "c", "d", "e", "f"] }, 50, "remote")).toThrow(DeletionGuardError);
    expect(() => checkDeletions({ destinationFiles: 4, deletes: ["a", "b", "c", "d"] }, 100, "remote")).not.toThrow();
    expect(() => checkDeletions({ destinationFiles: 4, deletes: ["a"] }, 0, "remote")).toThrow(/maxDelete \(0%\)/);
  });

  it("--max-delete lets one run through, as a count or a share; the advice names the option in the mode's form", () => {
    const plan = { destinationFiles: 10, deletes: ["a", "b", "c", "d", "e", "f"] };
    expect(() => checkDeletions(plan, 50, "remote", { override: { count: 6 } })).not.toThrow();
    expect(() => checkDeletions(plan, 50, "remote", { override: { count: 5 } })).toThrow(/--max-delete of this run \(5 file\(s\)\)/);
    expect(() => checkDeletions(plan, 50, "remote", { override: { percent: 60 } })).not.toThrow();
    expect(() => checkDeletions(plan, 50, "remote", { hint: { command: "workspace-sync sync --direction pull --yes" } })).toThrow(
      /`workspace-sync sync --direction pull --yes --max-delete 6`/,
    );
    expect(() => checkDeletions(plan, 50, "workspace", { hint: { command: "workspace-sync sync", percentOnly: true } })).toThrow(/--max-delete 60%/);
    expect(() => checkDeletions(plan, 50, "remote")).not.toThrow(/raise/);
  });

  it("parses N and N%", () => {
    expect(parseMaxDelete("12")).toEqual({ count: 12 });
    expect(parseMaxDelete("80%")).toEqual({ percent: 80 });
    expect(parseMaxDelete("12.5%")).toEqual({ percent: 12.5 });
    for (const bad of ["", "x", "-1", "1.5", "101%", "10 files"]) expect(() => parseMaxDelete(bad), bad).toThrow(/--max-delete must be/);
  });

  it("the dry-run preview lists every deletion, sorted, with sizes and totals", () => {
    const lines = describeStoppedDeletions(
      { destinationFiles: 4, deletes: ["z.txt", "a/b.bin", "m.md"], sizes: new Map([["z.txt", 10], ["a/b.bin", 3 * 1024 * 1024], ["m.md", 2048]]) },
      50,
      "remote",
      { command: "workspace-sync sync" },
    );
    expect(lines[0]).toMatch(/3 of 4 files on the remote would be deleted, more than maxDelete \(50%\)/);
    expect(lines.slice(1, 4).map((l) => l.trim().split(/\s+/).at(-1))).toEqual(["a/b.bin", "m.md", "z.txt"]);
    expect(lines[1]).toMatch(/3\.0 MiB/);
    expect(lines[4]).toMatch(/total: 3 file\(s\), 3\.0 MiB/);
    expect(lines[5]).toBe("if these deletions are intended: workspace-sync sync --max-delete 3");
  });
});
