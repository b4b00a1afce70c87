// openclaw.plugin.json and package.json#openclaw against the code: the schema covers every config key the loader
// accepts (nested and flat), never blocks the gateway on a recoverable problem, and marks every secret sensitive.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BACKUP_SPEC, FLAT_ROOT_SPEC, type FieldSpec, isObjectSpec, isSecretPath, type ObjectSpec, SYNC_SPEC } from "../config/schema.js";
import { CLI_DESCRIPTOR } from "./cli.js";
import { slashCommands } from "./commands.js";
import { PLUGIN_ID } from "./host-context.js";
import { manifestText } from "./manifest.js";

const root = path.resolve(import.meta.dirname, "../..");
const manifest = JSON.parse(readFileSync(path.join(root, "openclaw.plugin.json"), "utf8"));
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  enum?: unknown[];
}

function walkSchema(s: JsonSchema, visit: (s: JsonSchema, at: string) => void, at = ""): void {
  visit(s, at);
  for (const [k, v] of Object.entries(s.properties ?? {})) walkSchema(v, visit, at ? `${at}.${k}` : k);
  for (const v of s.anyOf ?? []) walkSchema(v, visit, at);
  if (s.items) walkSchema(s.items, visit, `${at}[]`);
}

/** Every key path the config loader accepts under an object spec. */
function specPaths(spec: ObjectSpec, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, f] of Object.entries(spec.fields) as [string, FieldSpec][]) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p);
    if (isObjectSpec(f)) out.push(...specPaths(f, p));
  }
  return out;
}

function schemaAt(p: string): JsonSchema | undefined {
  let s: JsonSchema | undefined = manifest.configSchema;
  for (const part of p.split(".")) s = s?.properties?.[part];
  return s;
}

describe("openclaw.plugin.json", () => {
  it("is exactly what the generator makes from the code (`npm run manifest` rewrites it)", () => {
    expect(readFileSync(path.join(root, "openclaw.plugin.json"), "utf8")).toBe(manifestText());
  });

  it("has the plugin id, startup activation, the CLI root and the backup resources of its state", () => {
    expect(manifest.id).toBe(PLUGIN_ID);
    expect(manifest.activation).toEqual({ onStartup: true });
    expect(manifest.cliCommands).toEqual([{ ...CLI_DESCRIPTOR }]);
    expect(manifest.commandAliases.map((a: { name: string }) => a.name).sort()).toEqual(slashCommands().map((c) => c.name).sort());
    expect(manifest.backupResources).toContainEqual({ disposition: "include", scope: "state", relativePath: "workspace-sync" });
  });

  it("covers every key of the nested format (sync.*, backup.*) and of the flat format", () => {
    const missing = [
      ...specPaths(SYNC_SPEC, "sync"),
      ...specPaths(BACKUP_SPEC, "backup"),
      ...specPaths(FLAT_ROOT_SPEC),
    ].filter((p) => !schemaAt(p));
    expect(missing).toEqual([]);
  });

  it("declares no key the loader does not know", () => {
    const known = new Set(["sync", "backup", ...specPaths(SYNC_SPEC, "sync"), ...specPaths(BACKUP_SPEC, "backup"), ...specPaths(FLAT_ROOT_SPEC)]);
    const extra: string[] = [];
    walkSchema(manifest.configSchema, (_s, at) => {
      // retain's periods are checked inside its own validator, not as an object spec
      if (at && !at.includes("[]") && !at.startsWith("backup.retain.") && !known.has(at)) extra.push(at);
    });
    expect(extra).toEqual([]);
  });

  it("never makes the gateway refuse to start over required-ness or unknown keys (the plugin reports those itself)", () => {
    walkSchema(manifest.configSchema, (s, at) => {
      expect(s.required, `required at ${at || "<root>"}`).toBeUndefined();
      expect(s.additionalProperties, `additionalProperties at ${at || "<root>"}`).not.toBe(false);
    });
  });

  it("is strict about types and enums", () => {
    expect(schemaAt("sync.mode")?.enum).toEqual(["mailbox", "mirror", "bisync"]);
    expect(schemaAt("mode")?.enum).toEqual(["mailbox", "mirror", "bisync"]);
    expect(schemaAt("backup.interval")).toMatchObject({ type: "integer", minimum: 300 });
    expect(schemaAt("sync.timeout")).toMatchObject({ type: "integer", minimum: 60 });
    expect(schemaAt("sync.interval")?.anyOf).toEqual([{ const: 0 }, expect.objectContaining({ minimum: 60 })]);
    expect(schemaAt("backup.include")?.items?.enum).toContain("transcripts");
  });

  it("marks every token, key, secret, password and passphrase sensitive in uiHints", () => {
    const paths = [...specPaths(SYNC_SPEC, "sync"), ...specPaths(BACKUP_SPEC, "backup"), ...specPaths(FLAT_ROOT_SPEC)];
    const secretish = paths.filter((p) => isSecretPath(p) || /(token|key|secret|password|passphrase)$/i.test(p.split(".").at(-1) ?? ""));
    expect(secretish.length).toBeGreaterThan(20);
    const notSensitive = secretish.filter((p) => manifest.uiHints[p]?.sensitive !== true);
    expect(notSensitive).toEqual([]);
    // backend options may carry credentials too
    expect(manifest.uiHints["sync.custom.rcloneOptions"].sensitive).toBe(true);
    for (const [p, h] of Object.entries(manifest.uiHints as Record<string, { label?: string; help?: string }>)) {
      expect(h.label, p).toBeTruthy();
      expect(h.help, p).toBeTruthy();
    }
  });
});

describe("package.json#openclaw", () => {
  it("points the host at the built entry and declares the plugin API floor and an optional host peer", () => {
    expect(pkg.openclaw.runtimeExtensions).toEqual(["./dist/index.js"]);
    expect(pkg.openclaw.extensions).toHaveLength(pkg.openclaw.runtimeExtensions.length);
    expect(pkg.openclaw.compat.pluginApi).toMatch(/^>=2026\./);
    expect(pkg.peerDependencies.openclaw).toBe(pkg.openclaw.compat.pluginApi);
    expect(pkg.peerDependenciesMeta.openclaw.optional).toBe(true);
    expect(pkg.dependencies.openclaw).toBeUndefined();
    expect(pkg.files).toEqual(expect.arrayContaining(["dist", "openclaw.plugin.json"]));
  });
});
