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

describe("already obscured values (copied from an rclone.conf)", () => {
  it("is recognised the way rclone's config create does, so it is obscured exactly once", async () => {
    const { isObscured, obscureOnce } = await import("./obscure.js");
    const secret = "correct horse battery staple";
    const fromRclone = execFileSync("rclone", ["obscure", "-"], { input: `${secret}\n` }).toString().trim();
    expect(isObscured(fromRclone)).toBe(true);
    expect(obscureOnce(fromRclone)).toBe(fromRclone);
    expect(execFileSync("rclone", ["reveal", "--", obscureOnce(secret)]).toString().trim()).toBe(secret);
    // Plain passwords: symbols outside base64url, too short, or revealing to binary are obscured.
    for (const plain of ["hunter2", "pw.with.dots-and-more-than-22-characters", "a".repeat(22), "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "p@ss w0rd!"]) {
      expect(isObscured(plain), plain).toBe(false);
      expect(execFileSync("rclone", ["reveal", "--", obscureOnce(plain)]).toString().trim()).toBe(plain);
    }
    // rclone refuses what Go's unpadded base64url refuses: padding, a 4n+1 length.
    expect(isObscured(`${fromRclone}=`)).toBe(false);
    expect(isObscured(`${fromRclone}AAAAA`.slice(0, Math.floor(fromRclone.length / 4) * 4 + 1))).toBe(false);
  });
});
