// Everything a backup command needs, resolved once from config + locations by app/backup-job.ts (as app/sync-job.ts
// resolves a SyncJob): the commands take this, never the whole application context.
import type { BackupConfig } from "../config/types.js";
import type { RcloneBinary } from "../rclone/binary.js";
import type { ResolvedRemote } from "../rclone/remotes.js";
import type { Logger } from "../util/logger.js";
import type { LiveLayout } from "./items.js";

/** What answers without rclone or the remote (`backup status`): settings, where things are, who this install is. */
export interface BackupTarget {
  config: BackupConfig;
  /** The backup folder (rclone.conf sections written only in a BackupJob). */
  remote: ResolvedRemote;
  stateDir: string;
  /** Where the live files are: state dir, workspace, config file, the environment that moves some of them. */
  locations: LiveLayout;
  /** This install's identity in snapshots: the host name and the agent id. */
  host: string;
  agent: string;
  log: Logger;
  /** The engine's clock (a test hook can shift it: see clock.ts). */
  now: () => Date;
}

export interface BackupJob extends BackupTarget {
  bin: RcloneBinary;
  /** rclone's environment: every variable carrying a configured secret removed. */
  env: NodeJS.ProcessEnv;
  /** Aborted when the invocation is interrupted (Ctrl-C, SIGTERM) or the service stops. */
  signal?: AbortSignal;
}
