// `backup status`: the backup settings (no secrets) and what the last runs did, from the persisted state, so a
// CLI process sees what the plugin's service did. No remote call, no rclone: it answers even when the remote is down.
import { readLockHolder } from "../state/lock.js";
import { installGroup } from "./groups.js";
import type { BackupTarget } from "./job.js";
import { type BackupState, backupLockFile, readBackupState } from "./state.js";

export interface BackupStatus {
  enabled: boolean;
  remote: string;
  format: string;
  include: string[];
  /** Encryption settings, never a secret. */
  encryption: { encrypt: boolean; keys: "passphrase" | "recipients" | "none" };
  compression: string;
  retain: unknown;
  interval: number;
  /** This install's group: its snapshots are the ones `latest` and retention look at. */
  group: { key: string; host: string; agent: string; paths: string[] };
  state: BackupState;
  nextRun?: string;
  runningNow?: { purpose: string; pid: number; since: string };
}

export async function backupStatus(target: BackupTarget): Promise<BackupStatus> {
  const c = target.config;
  const state = await readBackupState(target.stateDir);
  const holder = await readLockHolder(backupLockFile(target.stateDir));
  const last = state.lastRun?.finishedAt;
  const group = installGroup(target);
  return {
    enabled: c.enabled,
    remote: target.remote.display,
    format: c.format,
    include: c.include,
    encryption: { encrypt: c.encrypt, keys: !c.encrypt ? "none" : c.recipients.length ? "recipients" : "passphrase" },
    compression: c.compression,
    retain: c.retain,
    interval: c.interval,
    group: { key: group.key.slice(0, 8), host: group.host, agent: target.agent, paths: group.paths },
    state,
    ...(c.enabled && last ? { nextRun: new Date(Date.parse(last) + c.interval * 1000).toISOString() } : {}),
    ...(holder ? { runningNow: { purpose: holder.purpose, pid: holder.pid, since: holder.since } } : {}),
  };
}
