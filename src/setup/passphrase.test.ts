import { describe, expect, it } from "vitest";
import { generatePassphrase, MIN_BITS, passphraseCheck } from "./passphrase.js";

describe("backup passphrase strength", () => {
  it("refuses short ones and guessable ones, saying why without repeating them", async () => {
    const check = await passphraseCheck();
    expect(check("short1")).toMatch(/too short: 6 characters, at least 12/);
    for (const weak of ["password123456", "qwertyuiopasdf", "aaaaaaaaaaaaaaaa", "Tr0ub4dor&3x"]) {
      const why = check(weak);
      expect(why, weak).toMatch(new RegExp(`too easy to guess: about \\d+ bits of guessing work, at least ${MIN_BITS}`));
      expect(why).not.toContain(weak);
    }
    expect(check("password123456")).toMatch(/common password/);
  });

  it("accepts several unrelated words and generated passphrases", async () => {
    const check = await passphraseCheck();
    expect(check("correct horse battery staple 42")).toBeUndefined();
    const generated = generatePassphrase();
    expect(generated).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){6}$/);
    expect(check(generated)).toBeUndefined();
    expect(generatePassphrase()).not.toBe(generated);
  });
});
