// Where variable values come from and how `${VAR}` placeholders in the plugin config are filled in.
// - Names follow the host: only UPPER_CASE names are substituted, and an empty value counts as unset, so a config
//   behaves the same under the gateway and the standalone CLI.
// - Substituted text is never scanned again, and an unresolved placeholder is reported by key and variable NAME
//   only: the literal must never end up used as a token or passphrase, and no value is ever echoed.
import { readFile } from "node:fs/promises";
import type { ConfigProblem } from "./types.js";
import type { Env } from "./home.js";

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const VAR_NAME = /^[A-Z_][A-Z0-9_]*$/;

export interface ResolvedVars {
  value: unknown;
  problems: ConfigProblem[];
  /** Dotted keys whose string still holds an unresolved placeholder (validation skips them: one problem per cause). */
  unresolved: Set<string>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function joinKey(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/**
 * Replaces `${VAR}` in every string of a raw JSON tree. `isSecret(key)` marks keys whose text must not appear in a
 * message even partially (a malformed placeholder in a password could be part of the password).
 */
export function resolveVars(tree: unknown, env: Env, isSecret: (key: string) => boolean = () => false): ResolvedVars {
  const problems: ConfigProblem[] = [];
  const unresolved = new Set<string>();

  const resolveString = (text: string, key: string): string => {
    let failed = false;
    const out = text.replace(PLACEHOLDER, (whole, name: string) => {
      if (VAR_NAME.test(name)) {
        const v = env[name];
        if (v !== undefined && v !== "") return v;
        problems.push({
          key,
          message: `uses \${${name}}, but the environment variable ${name} is not set (or is empty); set it in the environment or in <stateDir>/.env`,
        });
      } else if (isSecret(key) || !/^[A-Za-z0-9_.:/-]{1,64}$/.test(name)) {
        problems.push({ key, message: "holds a malformed ${...} placeholder; use ${NAME} with an UPPER_CASE variable name" });
      } else {
        problems.push({
          key,
          message: `uses \${${name}}, which is not a variable reference this product (or OpenClaw) resolves; use an UPPER_CASE name such as \${${name.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}}`,
        });
      }
      failed = true;
      return whole;
    });
    // "${" without a closing brace is a half-written placeholder: never use it as a literal value.
    const rest = out.replace(PLACEHOLDER, "");
    if (!failed && rest.includes("${")) {
      problems.push({ key, message: "holds an unclosed ${ placeholder; write ${NAME}" });
      failed = true;
    }
    if (failed) unresolved.add(key);
    return out;
  };

  const walk = (node: unknown, key: string): unknown => {
    if (typeof node === "string") return node.includes("${") ? resolveString(node, key) : node;
    if (Array.isArray(node)) return node.map((item, i) => walk(item, joinKey(key, i)));
    if (isPlainObject(node)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        Object.defineProperty(out, k, { value: walk(v, joinKey(key, k)), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return node;
  };

  return { value: walk(tree, ""), problems, unresolved };
}

/**
 * Parses `.env` text the way dotenv (which OpenClaw uses) reads it: `KEY=VALUE` (or `KEY: VALUE`), optional
 * `export ` prefix, `#` starts a comment, values in single, double or back quotes may span lines (`\n` and `\r`
 * expand inside double quotes only), unquoted values are cut at `#` and trimmed. A later line wins.
 */
export function parseDotEnv(text: string): Record<string, string> {
  const src = text.replace(/\r\n?/g, "\n");
  const out: Record<string, string> = {};
  const head = /^[ \t]*(?:export[ \t]+)?([\w.-]+)(?:[ \t]*=[ \t]*|:[ \t]+)/;
  let pos = 0;
  while (pos < src.length) {
    const eol = src.indexOf("\n", pos) < 0 ? src.length : src.indexOf("\n", pos);
    const m = head.exec(src.slice(pos, eol));
    if (!m) {
      pos = eol + 1;
      continue;
    }
    const key = m[1]!;
    const at = pos + m[0].length;
    const quote = src[at];
    let value: string | undefined;
    let next = eol + 1;
    if (quote === "'" || quote === '"' || quote === "`") {
      // The closing quote may be on a later line; a backslash-escaped quote does not close.
      let i = at + 1;
      while (i < src.length && src[i] !== quote) i += src[i] === "\\" && src[i + 1] === quote ? 2 : 1;
      if (i < src.length) {
        value = src.slice(at + 1, i);
        if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
        const after = src.indexOf("\n", i);
        next = after < 0 ? src.length : after + 1;
      }
    }
    if (value === undefined) {
      const hash = src.indexOf("#", at);
      value = src.slice(at, hash >= 0 && hash < eol ? hash : eol).trim();
    }
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    pos = next;
  }
  return out;
}

/** Reads a `.env` file; a missing file is an empty map (the host treats it the same way). */
export async function readDotEnv(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  return parseDotEnv(text);
}

/**
 * The environment placeholders are resolved from, highest precedence first (process env, then `.env`, then the
 * config's `env` block): like OpenClaw, a later source only fills variables the earlier ones do not have.
 */
export function mergeEnv(...sources: Env[]): Env {
  const out: Env = {};
  for (const src of sources) {
    for (const [k, v] of Object.entries(src)) if (v !== undefined && out[k] === undefined) out[k] = v;
  }
  return out;
}
