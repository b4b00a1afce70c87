// docs/architecture.md's layering, checked on the code: no import runs back up the layers. The engines and the
// layers below never import reporting or a surface; reporting never imports a surface; the surfaces (cli, plugin,
// setup) stand side by side — cli mounts setup's command and the plugin mounts the cli's command tree, nothing else.
// Type-only imports are not counted (they vanish from the built code).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");

const LOWER = ["util", "config", "state", "rclone", "sync", "backup", "app", "schedule"];
const SURFACES = ["cli", "plugin", "setup"];
/** What each folder may not import (at run time). */
const FORBIDDEN: Record<string, string[]> = {
  ...Object.fromEntries(LOWER.map((l) => [l, ["report", ...SURFACES]])),
  report: SURFACES,
  setup: ["cli", "plugin"],
  cli: ["plugin"],
  plugin: ["setup"],
};
/** Known exceptions, each with the reason it is still there. */
const ALLOWED = new Set<string>([]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/** Run-time imports (static and dynamic) of a module, as paths relative to src/. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...[...text.matchAll(/^import(?!\s+type\b)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!),
    ...[...text.matchAll(/^export\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!),
    ...[...text.matchAll(/import\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!),
  ];
  return specs.filter((s) => s.startsWith(".")).map((s) => path.relative(src, path.resolve(path.dirname(file), s)));
}

describe("layers", () => {
  it("no import runs back up the layers", () => {
    const violations: string[] = [];
    for (const file of files(src)) {
      const from = path.relative(src, file);
      const layer = from.split(path.sep)[0]!;
      for (const to of runtimeImports(file)) {
        const target = to.split(path.sep)[0]!;
        const edge = `${from} -> ${to}`;
        if (FORBIDDEN[layer]?.includes(target) && !ALLOWED.has(edge)) violations.push(edge);
      }
    }
    expect(violations).toEqual([]);
  });
});
