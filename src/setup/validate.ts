// Prompt-time checks: every answer is checked with the very validator the config loader uses for that key
// (src/config/schema.ts), so the wizard can never accept a value that loading the config would refuse, nor refuse
// one it would accept. The whole config is validated once more with the loader before anything is written.
import type { z } from "zod";
import { loadPluginConfig, type ConfigProblem, type Env } from "../config/index.js";
import { BACKUP_SPEC, type BlockName, type FieldSpec, isObjectSpec, PROVIDER_BLOCKS, SYNC_SPEC } from "../config/schema.js";

function leaf(field: FieldSpec | undefined, what: string): z.ZodType {
  if (!field || isObjectSpec(field)) throw new Error(`no validator for ${what}`);
  return field;
}

function firstMessage(schema: z.ZodType, value: unknown): string | undefined {
  const res = schema.safeParse(value);
  if (res.success) return undefined;
  return res.error.issues[0]?.message ?? "is not valid";
}

/** The loader's message for `sync.<key>` = value, or undefined when it is fine. */
export function checkSync(key: keyof typeof SYNC_SPEC.fields, value: unknown): string | undefined {
  return firstMessage(leaf(SYNC_SPEC.fields[key], `sync.${key}`), value);
}

/** The loader's message for `backup.<key>` = value. */
export function checkBackup(key: keyof typeof BACKUP_SPEC.fields, value: unknown): string | undefined {
  return firstMessage(leaf(BACKUP_SPEC.fields[key], `backup.${key}`), value);
}

/** The loader's message for `<block>.<key>` = value inside a provider block (or crypt). */
export function checkBlock(block: BlockName | "crypt", key: string, value: unknown): string | undefined {
  const spec = block === "crypt" ? SYNC_SPEC.fields.crypt : PROVIDER_BLOCKS[block];
  if (!spec || !isObjectSpec(spec)) throw new Error(`no block ${block}`);
  return firstMessage(leaf(spec.fields[key], `${block}.${key}`), value);
}

/** A number of seconds typed as text: the number, or why it is not one (the range is the schema's job). */
export function parseWholeNumber(text: string): number | { error: string } {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return { error: "must be a whole number of seconds, like 300" };
  return Number(t);
}

/** Seconds typed as text, checked with the loader's validator for `key`. */
export function checkSeconds(text: string, check: (n: number) => string | undefined): string | undefined {
  const n = parseWholeNumber(text);
  return typeof n === "number" ? check(n) : n.error;
}

/** `7` or `daily=7,weekly=4` → the retain value, or why not. */
export function parseRetain(text: string): number | Record<string, number> | { error: string } {
  const t = text.trim();
  let value: unknown;
  if (/^\d+$/.test(t)) value = Number(t);
  else {
    const out: Record<string, number> = {};
    for (const part of t.split(/[,\s]+/).filter(Boolean)) {
      const m = /^([a-z]+)[=:](\d+)$/i.exec(part);
      if (!m) return { error: 'must be a number of snapshots (like 7) or periods like "daily=7,weekly=4"' };
      out[m[1]!.toLowerCase()] = Number(m[2]);
    }
    value = out;
  }
  const problem = checkBackup("retain", value);
  return problem ? { error: problem } : (value as number | Record<string, number>);
}

/** Every problem the config loader finds in the plugin config setup is about to write (secrets from `env`). */
export function configProblems(pluginConfig: unknown, env: Env): ConfigProblem[] {
  return loadPluginConfig(pluginConfig, env).problems;
}
