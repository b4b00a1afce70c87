// A first backup, a restore and a verify that reads the data in one malloc arena. glibc gives every thread that
// allocates (a repository backup's encoder worker, a restore's decoder worker, the thread pool, V8's helper threads) an
// arena of its own, and each keeps much of what is freed in it: a first backup passes every new blob through two of
// them, a restore every decoded one.
// One arena, with fixed thresholds so that chunk-sized buffers are reused from it instead of faulted in fresh, keeps
// the peak RSS of a first 1 GiB repository backup ~10–15 MiB lower (145–153 → 129–145 MiB) at the same speed, an
// archive backup's page faults a quarter lower, and a 1 GiB repository restore's peak 13–16 MiB lower (139–143 →
// 126–127 MiB, a fifth fewer page faults), and a 1 GiB `verify --read-data` 158–165 → 143–144 MiB
// (docs/performance.md).
// glibc reads these settings only when a process starts, so the bin replaces its process with itself once, the
// settings added (process.execve: same PID, arguments and environment otherwise), before anything is loaded (a bare
// start, ~0.05–0.1 s). Only for a first `backup now` (no committed snapshot in this install's backup state): an
// incremental run peaks ~30 MiB lower anyway and should not pay the start; for `backup restore` (not its dry run,
// which writes nothing); and for `backup verify --read-data`. Settings the user made are kept as they are.
//
// This module is loaded by bin/workspace-sync.js before the CLI bundle: it imports nothing heavy.
import { readFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import { resolveStateDir } from "../config/home.js";
import { backupStateFile } from "../state/paths.js";

export const ONE_ARENA: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "1",
  // Buffers up to 8 MiB (a chunk) come from the arena and are reused; up to 16 MiB freed at its top stays for the
  // next blobs, more goes back to the system.
  GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=8388608:glibc.malloc.trim_threshold=16777216",
};

/** The state dir as the CLI resolves it (config/home.ts), its --state-dir flag read from the raw arguments. */
export function stateDirOf(args: readonly string[], env: NodeJS.ProcessEnv): string {
  let flag: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") break;
    if (a === "--state-dir") flag = args[i + 1];
    else if (a.startsWith("--state-dir=")) flag = a.slice("--state-dir=".length);
  }
  return resolveStateDir(flag, env);
}

/** The arguments run `backup <command>` (not its help). */
function runsBackup(args: readonly string[], command: string): boolean {
  const backup = args.indexOf("backup");
  return backup >= 0 && args.indexOf(command, backup + 1) >= 0 && !args.some((a) => a === "--help" || a === "-h");
}

/** `backup now` by an install whose backup state records no committed snapshot (missing state: a first backup). */
export function isFirstBackup(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (!runsBackup(args, "now")) return false;
  try {
    const state = JSON.parse(readFileSync(backupStateFile(stateDirOf(args, env)), "utf8")) as { lastSuccess?: { snapshot?: string } };
    return !state?.lastSuccess?.snapshot;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT"; // no state yet: a first backup; an unreadable one: leave it
  }
}

/** `backup restore` that writes files (a dry run only lists). */
export function isRestore(args: readonly string[]): boolean {
  return runsBackup(args, "restore") && !args.includes("--dry-run");
}

/** `backup verify --read-data`: a repository's packs read back whole, every blob decoded (restic check --read-data). */
export function isDataVerify(args: readonly string[]): boolean {
  return runsBackup(args, "verify") && args.some((a) => a === "--read-data");
}

/** The runs that restart in one arena. */
export function wantsOneArena(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return isRestore(args) || isDataVerify(args) || isFirstBackup(args, env);
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Replaces this process with itself in one malloc arena when it runs a first backup or a restore on glibc; else returns. */
export function restartInOneArena(args: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): void {
  if (process.platform !== "linux" || !isMainThread || env.MALLOC_ARENA_MAX !== undefined || env.GLIBC_TUNABLES !== undefined) return;
  const execve = (process as { execve?: Execve }).execve;
  if (typeof execve !== "function" || !wantsOneArena(args, env)) return;
  try {
    execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...env, ...ONE_ARENA });
  } catch {
    // not replaceable here (a sandbox that forbids exec): the backup runs in this process as it is
  }
}
