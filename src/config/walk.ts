// Walks a raw config object against an ObjectSpec: keeps every valid value, reports every bad or unknown key with
// its dotted path, so one mistake never hides another and rules that need a neighbour's value can still run.
import { joinKey } from "./resolve-vars.js";
import { type FieldSpec, isObjectSpec, kindOf, type ObjectSpec } from "./schema.js";
import { closest } from "./suggest.js";
import type { ConfigProblem } from "./types.js";

export interface WalkContext {
  problems: ConfigProblem[];
  /** Keys holding an unresolved ${VAR}: already reported, so not validated again. */
  unresolved: ReadonlySet<string>;
}

export interface WalkOptions {
  /** Keys the caller handles itself. */
  ignore?: ReadonlySet<string>;
  /** A tailored message for a key that is known elsewhere (e.g. a sync key at the root of the nested format). */
  misplaced?: (key: string) => string | undefined;
  /** More spellings to suggest for a misspelt key (ignored keys are suggested too). */
  alsoKnown?: readonly string[];
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function issueKey(base: string, at: readonly PropertyKey[]): string {
  return at.reduce<string>((k, seg) => joinKey(k, typeof seg === "number" ? seg : String(seg)), base);
}

function touchesUnresolved(key: string, unresolved: ReadonlySet<string>): boolean {
  for (const u of unresolved) if (u === key || u.startsWith(`${key}.`) || u.startsWith(`${key}[`)) return true;
  return false;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = closest(key, known);
  if (near) return `is not a known setting; did you mean "${near}"?`;
  const listing = known.length <= 12 ? ` (known here: ${known.join(", ")})` : "";
  return `is not a known setting and would be ignored; remove it or fix its spelling${listing}`;
}

/** Validates one leaf value; returns the parsed value or undefined after reporting its problems. */
export function checkLeaf(schema: FieldSpec, value: unknown, key: string, ctx: WalkContext): { ok: boolean; value?: unknown } {
  if (isObjectSpec(schema)) {
    const out = walkObject(value, schema, key, ctx);
    return out ? { ok: true, value: out } : { ok: false };
  }
  if (touchesUnresolved(key, ctx.unresolved)) return { ok: false };
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  for (const iss of r.error.issues) ctx.problems.push({ key: issueKey(key, iss.path), message: iss.message });
  return { ok: false };
}

/** The valid part of `raw` (undefined when `raw` is not an object at all). */
export function walkObject(
  raw: unknown,
  spec: ObjectSpec,
  key: string,
  ctx: WalkContext,
  opts: WalkOptions = {},
): Record<string, unknown> | undefined {
  if (!isPlainObject(raw)) {
    ctx.problems.push({ key, message: `must be an object ({ ... }), not ${kindOf(raw)}` });
    return undefined;
  }
  const out: Record<string, unknown> = {};
  const known = [...Object.keys(spec.fields), ...(opts.ignore ?? []), ...(opts.alsoKnown ?? [])];
  for (const [k, v] of Object.entries(raw)) {
    // undefined cannot come from JSON; from code it means "not set".
    if (opts.ignore?.has(k) || v === undefined) continue;
    const childKey = joinKey(key, k);
    const field = Object.hasOwn(spec.fields, k) ? spec.fields[k] : undefined;
    if (!field) {
      ctx.problems.push({ key: childKey, message: opts.misplaced?.(k) ?? unknownKeyMessage(k, known) });
      continue;
    }
    const r = checkLeaf(field, v, childKey, ctx);
    if (r.ok) out[k] = r.value;
  }
  for (const [k, message] of Object.entries(spec.required ?? {})) {
    if (raw[k] === undefined) ctx.problems.push({ key: joinKey(key, k), message });
  }
  return out;
}
