// A copy of the resolved config that is safe to print or send as JSON (`status`): every secret becomes "***".
import { isSecretKey } from "./schema.js";
import type { PluginConfig } from "./types.js";

export const REDACTED = "***";

function redact(value: unknown, key: string | undefined, parent: string | undefined): unknown {
  if (key !== undefined && isSecretKey(key, parent) && value !== undefined && value !== null && typeof value !== "object") return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redact(item, undefined, key));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === "function") continue;
      out[k] = redact(v, k, key);
    }
    return out;
  }
  // JSON has no NaN/Infinity: keep the output parseable.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

export function redactConfig(config: PluginConfig): Record<string, unknown> {
  return redact(config, undefined, undefined) as Record<string, unknown>;
}
