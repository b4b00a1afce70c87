// The backup passphrase protects every encrypted snapshot, and an attacker with a copy of the snapshots can try
// guesses offline for as long as they like. Setup refuses a weak one (with the reason) and can generate a strong one.
// The estimate is zxcvbn's (dictionaries of common passwords and names, keyboard patterns, repeats, sequences, dates):
// a plain length-and-character-classes count would take "Password1234" for a strong passphrase.
import { randomBytes } from "node:crypto";

export const MIN_LENGTH = 12;
/** About 50 bits: ~10^15 guesses, centuries at the rate scrypt (age's passphrase KDF) allows even on many GPUs. */
export const MIN_BITS = 50;

const REASONS: Record<string, string> = {
  straightRow: "it is a row of keys on the keyboard",
  keyPattern: "it is a keyboard pattern",
  simpleRepeat: 'it repeats characters ("aaa")',
  extendedRepeat: 'it repeats a pattern ("abcabc")',
  sequences: 'it is a sequence ("abc", "123")',
  recentYears: "it ends in or is a recent year",
  dates: "it contains a date",
  topTen: "it is one of the ten most common passwords",
  topHundred: "it is one of the hundred most common passwords",
  common: "it is a very common password",
  similarToCommon: "it is a common password with small changes",
  wordByItself: "a single word is easy to guess",
  namesByThemselves: "names alone are easy to guess",
  commonNames: "common names are easy to guess",
  userInputs: "it contains something that describes this setup",
};

export type PassphraseCheck = (value: string) => string | undefined;

/**
 * Loads the estimator (its dictionaries are ~2 MB, so only setup loads them) and returns a check: undefined when the
 * passphrase is strong enough, else why not (never repeating the passphrase).
 */
export async function passphraseCheck(): Promise<PassphraseCheck> {
  const [{ ZxcvbnFactory }, common] = await Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common")]);
  const estimator = new ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs });
  return (value) => {
    if (value.length < MIN_LENGTH) return `is too short: ${value.length} characters, at least ${MIN_LENGTH} are needed (several words work well)`;
    const result = estimator.check(value);
    const bits = Math.floor(result.guessesLog10 * Math.log2(10));
    if (bits >= MIN_BITS) return undefined;
    const reason = result.feedback.warning ? REASONS[result.feedback.warning] : undefined;
    return `is too easy to guess: about ${bits} bits of guessing work, at least ${MIN_BITS} are needed${reason ? ` (${reason})` : ""}; use several unrelated words or a generated passphrase`;
  };
}

// Crockford's base32 alphabet (no i, l, o, u: nothing to misread): 32 characters, so the low 5 bits of a random
// byte pick one without bias.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** 28 random characters in groups of 4 (140 bits): easy to copy, far beyond any guessing. */
export function generatePassphrase(): string {
  const bytes = randomBytes(28);
  const chars = [...bytes].map((b) => ALPHABET[b & 31]);
  const groups: string[] = [];
  for (let i = 0; i < chars.length; i += 4) groups.push(chars.slice(i, i + 4).join(""));
  return groups.join("-");
}
