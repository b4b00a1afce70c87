// The backup engine's surface: the plugin service and the setup wizard run `runBackup`; the CLI's `backup` commands
// use the rest. Every command takes a BackupJob (app/backup-job.ts builds it from the configuration).
export { runBackup, type BackupOutcome, type RunBackupOptions } from "./run-backup.js";
export { verifySnapshots, type VerifyOptions, type VerifyResult } from "./verify.js";
export { restoreSnapshot, type RestoreOptions, type RestoreReport } from "./restore.js";
export { pruneRepository, type PruneReport } from "./prune.js";
export { listSnapshots, type ListOptions, type SnapshotList } from "./list.js";
export { backupStatus, type BackupStatus } from "./status.js";
export type { BackupJob, BackupTarget } from "./job.js";
export type { Progress, ProgressSink } from "./progress.js";
