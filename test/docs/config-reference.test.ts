// The config reference (docs/configuration.md) against the JSON Schema the host validates with
// (openclaw.plugin.json → configSchema): every key the schema has is documented, and every documented key exists.
//
// How the reference documents a key: a table whose header starts with `key` lists keys under the nearest heading;
// the heading's backticked paths are their prefixes (`sync`, `sync.dropbox` / `backup.dropbox`, …), a heading without
// one means the top level. A heading's backticked paths count as documented keys too. The flat format repeats the
// sync keys at the top level; the reference documents them once, under `sync`, and says so.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const manifest = JSON.parse(readFileSync(path.join(root, "openclaw.plugin.json"), "utf8"));
const reference = readFileSync(path.join(root, "docs/configuration.md"), "utf8");

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
}

/** Every key path of the schema (object properties, also inside anyOf alternatives). */
function schemaPaths(s: JsonSchema, at = "", out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const p = at ? `${at}.${k}` : k;
    out.add(p);
    schemaPaths(v, p, out);
  }
  for (const alt of s.anyOf ?? []) schemaPaths(alt, at, out);
  return out;
}

const ticks = (text: string) => [...text.matchAll(/`([A-Za-z0-9_.]+)`/g)].map((m) => m[1]!);

/** Documented key paths: table rows under their heading's prefixes, plus the headings' own paths. */
function documentedPaths(md: string): Set<string> {
  const out = new Set<string>();
  let prefixes: string[] = [""];
  let inKeyTable = false;
  for (const line of md.split("\n")) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      const paths = ticks(heading[1]!);
      prefixes = paths.length ? paths : [""];
      for (const p of paths) out.add(p);
      inKeyTable = false;
      continue;
    }
    if (!line.startsWith("|")) {
      inKeyTable = false;
      continue;
    }
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (/^key$/i.test(cells[0] ?? "")) {
      inKeyTable = true;
      continue;
    }
    if (!inKeyTable || /^-+$/.test((cells[0] ?? "").replace(/:/g, ""))) continue;
    const key = /^`([A-Za-z0-9_]+)`/.exec(cells[0] ?? "")?.[1];
    if (key) for (const prefix of prefixes) out.add(prefix ? `${prefix}.${key}` : key);
  }
  return out;
}

describe("docs/configuration.md is the complete config reference", () => {
  const schema = schemaPaths(manifest.configSchema);
  const documented = documentedPaths(reference);
  const nested = [...schema].filter((p) => p === "sync" || p === "backup" || p.startsWith("sync.") || p.startsWith("backup."));
  const topLevel = [...schema].filter((p) => !nested.includes(p));
  const rootKeys = topLevel.filter((p) => !schema.has(`sync.${p}`));
  const flatCopies = topLevel.filter((p) => schema.has(`sync.${p}`));

  it("parses a sensible number of keys from both", () => {
    expect(nested.length).toBeGreaterThan(80);
    expect(documented.size).toBeGreaterThan(80);
  });

  it("documents every key of the JSON Schema", () => {
    expect([...nested, ...rootKeys].filter((p) => !documented.has(p))).toEqual([]);
  });

  it("documents no key the JSON Schema lacks", () => {
    expect([...documented].filter((p) => !schema.has(p))).toEqual([]);
  });

  it("the flat format is exactly the sync keys at the top level, and the reference says so", () => {
    const syncKeys = nested.filter((p) => p.startsWith("sync.")).map((p) => p.slice("sync.".length));
    expect(flatCopies.sort()).toEqual(syncKeys.sort());
    expect(reference).toMatch(/\*\*flat\*\*[^\n]*the sync keys at the root/);
  });
});
