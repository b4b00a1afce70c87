// `backup status`: the backup settings (no secrets) and what the last runs did, from the persisted state, so a
// CLI process sees what the plugin's service did. No remote call: it answers even when the remote is down.
import type { AppContext } from "../app/context.js";
import { resolveBackupRemote } from "../app/backup-job.js";
import { readLockHolder } from "../state/lock.js";
import { encryptionFor } from "./keys.js";
import type { EncryptionInfo } from "./formats/archive/manifest.js";
import { backupConfigOf } from "./setup.js";
import { type BackupState, backupLockFile, readBackupState } from "./state.js";

export interface BackupStatus {
  enabled: boolean;
  remote: string;
  include: string[];
  encryption: EncryptionInfo;
  compression: string;
  retain: unknown;
  interval: number;
  state: BackupState;
  nextRun?: string;
  runningNow?: { purpose: string; pid: number; since: string };
}

export async function backupStatus(ctx: AppContext): Promise<BackupStatus> {
  const backup = backupConfigOf(ctx);
  const state = await readBackupState(ctx.stateDir);
  const holder = await readLockHolder(backupLockFile(ctx.stateDir));
  const last = state.lastRun?.finishedAt;
  return {
    enabled: backup.enabled,
    remote: resolveBackupRemote(ctx, backup).display,
    include: backup.include,
    encryption: encryptionFor(backup).info,
    compression: backup.compression,
    retain: backup.retain,
    interval: backup.interval,
    state,
    ...(backup.enabled && last ? { nextRun: new Date(Date.parse(last) + backup.interval * 1000).toISOString() } : {}),
    ...(holder ? { runningNow: { purpose: holder.purpose, pid: holder.pid, since: holder.since } } : {}),
  };
}
