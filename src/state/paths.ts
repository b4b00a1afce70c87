// Where the product keeps its data under the OpenClaw state dir (service data under <stateDir>/<plugin>).
import { createHash } from "node:crypto";
import path from "node:path";

export const PLUGIN_ID = "openclaw-workspace-sync";
export const PRODUCT_DIR_NAME = "workspace-sync";

export function productDir(stateDir: string): string {
  return path.join(stateDir, PRODUCT_DIR_NAME);
}

/** The backup state (backup/state.ts reads and writes it; the bin's first-backup check reads it before the bundle). */
export function backupStateFile(stateDir: string): string {
  return path.join(productDir(stateDir), "backup-state.json");
}

/** Short stable id for a (local folder, remote folder) pair, used for per-pair state. */
export function pairId(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16);
}

export function defaultRcloneConf(stateDir: string): string {
  return path.join(productDir(stateDir), "rclone.conf");
}
