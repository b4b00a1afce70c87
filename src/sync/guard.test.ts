import { describe, expect, it } from "vitest";
import { checkDeletions, DeletionGuardError } from "./guard.js";

describe("deletion guard", () => {
  it("allows up to maxDelete percent and stops above it", () => {
    expect(() => checkDeletions({ destinationFiles: 10, deletes: ["a", "b", "c", "d", "e"] }, 50, "remote")).not.toThrow();
    expect(() => checkDeletions({ destinationFiles: 10, deletes: ["a", "b", "c", "d", "e", "f"] }, 50, "remote")).toThrow(DeletionGuardError);
    expect(() => checkDeletions({ destinationFiles: 4, deletes: ["a", "b", "c", "d"] }, 100, "remote")).not.toThrow();
    expect(() => checkDeletions({ destinationFiles: 4, deletes: ["a"] }, 0, "remote")).toThrow(/maxDelete \(0%\)/);
  });
});
