// Sets variables in `<stateDir>/.env` (the file OpenClaw and the standalone CLI read ${VAR} values from): the other
// lines stay as they are, the file is replaced atomically with mode 0600, and every written value is read back with
// the same parser the config loader uses, so what setup stores is exactly what a later run resolves.
import { chmod, copyFile, readFile } from "node:fs/promises";
import { parseDotEnv } from "../config/index.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { UsageError } from "../util/errors.js";

const NAME = /^[A-Z_][A-Z0-9_]*$/;

/** One `KEY=value` line whose value dotenv reads back unchanged (single and back quotes are literal). */
export function dotEnvLine(name: string, value: string): string {
  if (!NAME.test(name)) throw new UsageError(`${name} is not a valid variable name (UPPER_CASE letters, digits and _)`);
  if (/[\r\n\0]/.test(value)) throw new UsageError(`the value for ${name} contains a line break, which .env cannot hold: set ${name} in the environment instead`);
  const quote = ["'", "`"].find((q) => !value.includes(q)) ?? (!value.includes('"') && !/\\[nr]/.test(value) ? '"' : undefined);
  if (!quote) throw new UsageError(`the value for ${name} contains every kind of quote, which .env cannot hold: set ${name} in the environment instead`);
  return `${name}=${quote}${value}${quote}`;
}

const assignment = (name: string) => new RegExp(`^[ \\t]*(?:export[ \\t]+)?${name}(?:[ \\t]*=|:[ \\t])`);

/** The .env text with `vars` set: earlier single-line assignments of the same names are removed, new lines appended. */
export function setDotEnvVars(text: string, vars: Record<string, string>): string {
  const names = Object.keys(vars);
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const kept = lines.filter((line) => !names.some((n) => assignment(n).test(line)));
  while (kept.length && kept.at(-1) === "") kept.pop();
  const added = names.map((n) => dotEnvLine(n, vars[n]!));
  const out = `${[...kept, ...added].join("\n")}\n`;
  const parsed = parseDotEnv(out);
  for (const n of names) {
    if (parsed[n] !== vars[n]) {
      throw new UsageError(`could not store ${n} in .env without changing its meaning (a multi-line value is there already): edit the file by hand`);
    }
  }
  return out;
}

export interface DotEnvUpdate {
  file: string;
  /** Names whose value changed (added or replaced). */
  changed: string[];
  /** Names that held a different value before (the copy keeps it). */
  replaced: string[];
  /** Copy of the previous file, when one existed and something was replaced. */
  backup?: string;
}

/** Sets the variables in the .env file (creating it 0600); values already set to the same text are left alone. */
export async function updateDotEnv(file: string, vars: Record<string, string>, stamp: string): Promise<DotEnvUpdate> {
  let text = "";
  let exists = true;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    exists = false;
  }
  const current = parseDotEnv(text);
  const changed = Object.keys(vars).filter((n) => current[n] !== vars[n]);
  const replaced = changed.filter((n) => current[n] !== undefined && current[n] !== "");
  if (!changed.length) return { file, changed, replaced };
  const next = setDotEnvVars(text, Object.fromEntries(changed.map((n) => [n, vars[n]!])));
  let backup: string | undefined;
  if (exists && replaced.length) {
    backup = `${file}.${stamp}.bak`;
    await copyFile(file, backup);
    await chmod(backup, 0o600);
  }
  await writeFileAtomic(file, next, 0o600);
  return { file, changed, replaced, ...(backup ? { backup } : {}) };
}
