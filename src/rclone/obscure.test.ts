import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { obscure, reveal } from "./obscure.js";

describe("rclone obscure compatibility", () => {
  it("rclone reveals what we obscure, and we reveal what rclone obscures", () => {
    const secret = "pä$$ word\twith symbols ✓";
    // "--": an obscured value may start with "-" (base64url), which rclone would read as a flag.
    const ours = obscure(secret);
    expect(execFileSync("rclone", ["reveal", "--", ours]).toString().trim()).toBe(secret);
    const theirs = execFileSync("rclone", ["obscure", "-"], { input: `${secret}\n` }).toString().trim();
    expect(reveal(theirs)).toBe(secret);
    expect(obscure(secret)).not.toBe(ours); // random IV each time
  });
});
