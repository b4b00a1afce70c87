// The backup engine's surface: the plugin service and the setup wizard run `runBackup`; the CLI's `backup` commands
// use the rest. Every command takes a BackupJob (app/backup-job.ts builds it from the configuration).
export { runBackup, type BackupOutcome, type RunBackupOptions } from "./run-backup.js";
export { parseSubset, verifySnapshots, type VerifyOptions, type VerifyResult } from "./verify.js";
export { lsSnapshot, type LsOptions, type LsReport } from "./ls.js";
export { findInSnapshots, type FindHits, type FindOptions, type FindReport } from "./find.js";
export { diffSnapshots, type DiffChange, type DiffOptions, type DiffReport } from "./diff.js";
export { exportSnapshot, type ExportOptions, type ExportReport } from "./export.js";
export type { SnapshotNode } from "./formats/format.js";
export { restoreSnapshot, type RestoreOptions, type RestoreReport } from "./restore.js";
export { pruneRepository, type PruneReport } from "./prune.js";
export { listSnapshots, type ListOptions, type SnapshotList } from "./list.js";
export { backupStatus, type BackupStatus } from "./status.js";
export { hasCommittedSnapshot } from "./state.js";
export type { BackupJob, BackupTarget } from "./job.js";
export type { Progress, ProgressSink } from "./progress.js";
