// The backup engine's surface: the plugin service runs `runBackup`; the CLI's `backup` commands use the rest.
export { runBackup, type BackupOutcome, type RunBackupOptions } from "./run-backup.js";
export { verifySnapshots, type VerifyResult } from "./verify.js";
export { restoreSnapshot, type RestoreReport } from "./restore.js";
export { pruneRepository, type PruneReport } from "./prune-run.js";
export { listSnapshots, type SnapshotList } from "./list.js";
export { backupStatus, type BackupStatus } from "./status.js";
export type { Progress, ProgressSink } from "./progress.js";
