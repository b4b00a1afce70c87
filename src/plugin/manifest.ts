// openclaw.plugin.json, generated: the config JSON Schema comes from the config loader's own zod schemas
// (config/schema.ts, via zod's toJSONSchema), so the host's validation and the plugin's can never drift apart;
// the CLI and slash-command metadata come from the code that registers them. `npm run manifest` writes the file,
// a test fails when the committed file differs.
//
// The host's rules (PRODUCT.md §1): an invalid plugin config makes the gateway refuse to start, so the schema is
// strict about types, enums and ranges, but leaves required-ness and unknown keys to the plugin, which reports them
// in its log and `status` and stays idle instead of blocking the gateway.
import { z } from "zod";
import { BACKUP_SPEC, FLAT_ROOT_SPEC, type FieldSpec, isObjectSpec, isSecretPath, type ObjectSpec, SYNC_SPEC } from "../config/schema.js";
import { CLI_DESCRIPTOR } from "./cli.js";
import { slashCommands } from "./commands.js";
import { PLUGIN_ID } from "./host-context.js";
import { type UiHint, UI_HINTS } from "./manifest-hints.js";

type JsonSchema = Record<string, unknown>;

/** Drops what the host must not enforce (required keys, closed objects) and zod's $schema header. */
function openUp(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openUp);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "$schema" || k === "required") continue;
    if (k === "additionalProperties" && v === false) continue;
    out[k] = openUp(v);
  }
  return out;
}

function leafSchema(leaf: z.ZodType): JsonSchema {
  return openUp(z.toJSONSchema(leaf, { io: "input", unrepresentable: "any" })) as JsonSchema;
}

function objectSchema(spec: ObjectSpec, extra: Record<string, JsonSchema> = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, field] of Object.entries(spec.fields) as [string, FieldSpec][]) {
    properties[key] = isObjectSpec(field) ? objectSchema(field) : leafSchema(field);
  }
  return { type: "object", additionalProperties: true, properties: { ...extra, ...properties } };
}

/** Nested ({sync, backup}) and flat (sync keys at the root, backup beside them) in one schema. */
export function configJsonSchema(): JsonSchema {
  return objectSchema(FLAT_ROOT_SPEC, { sync: objectSchema(SYNC_SPEC), backup: objectSchema(BACKUP_SPEC) });
}

/** Every key path the schema declares ("sync.s3.bucket", …). */
function keyPaths(spec: ObjectSpec, prefix = ""): string[] {
  return (Object.entries(spec.fields) as [string, FieldSpec][]).flatMap(([k, f]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...(isObjectSpec(f) ? keyPaths(f, p) : [])];
  });
}

export function uiHints(): Record<string, UiHint> {
  const paths = new Set(["sync", "backup", ...keyPaths(SYNC_SPEC, "sync"), ...keyPaths(BACKUP_SPEC, "backup"), ...keyPaths(FLAT_ROOT_SPEC)]);
  const out: Record<string, UiHint> = {};
  for (const [p, hint] of Object.entries(UI_HINTS)) {
    if (!paths.has(p)) continue; // a hint for a key the schema no longer has
    out[p] = isSecretPath(p) ? { ...hint, sensitive: true } : hint;
  }
  return out;
}

export function buildManifest(): Record<string, unknown> {
  return {
    id: PLUGIN_ID,
    name: "Workspace Sync",
    description:
      "Sync the agent workspace with cloud storage through rclone (mailbox, mirror, bisync), and back up the agent system as encrypted streaming snapshots.",
    categories: ["documents-files"],
    activation: { onStartup: true },
    cliCommands: [{ ...CLI_DESCRIPTOR }],
    commandAliases: slashCommands().map((c) => ({ name: c.name, kind: "runtime-slash", cliCommand: CLI_DESCRIPTOR.name })),
    backupResources: [
      { disposition: "include", scope: "state", relativePath: "workspace-sync" },
      { disposition: "regenerable", scope: "state", relativePath: "workspace-sync/locks" },
    ],
    uiHints: uiHints(),
    configSchema: configJsonSchema(),
  };
}

export const manifestText = (): string => `${JSON.stringify(buildManifest(), null, 2)}\n`;
