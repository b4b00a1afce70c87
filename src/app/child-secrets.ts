// Every secret value of a loaded configuration (the keys the config schema marks secret: passphrase, passwords,
// tokens, S3 secret keys, custom rclone options such as `pass`), registered so that no rclone child inherits an
// environment variable carrying one (util/child-env.ts).
import { isSecretKey } from "../config/schema.js";
import { registerChildSecrets } from "../util/child-env.js";

export function secretValues(tree: unknown, key?: string, parent?: string): string[] {
  if (Array.isArray(tree)) return tree.flatMap((item) => secretValues(item, undefined, key));
  if (typeof tree === "object" && tree !== null) return Object.entries(tree).flatMap(([k, v]) => secretValues(v, k, key));
  if (key !== undefined && isSecretKey(key, parent) && (typeof tree === "string" || typeof tree === "number")) return [String(tree)];
  return [];
}

export function registerConfigSecrets(config: unknown): void {
  registerChildSecrets(secretValues(config));
}
