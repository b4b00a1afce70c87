// `workspace-sync schedule install|remove|status`: the standalone counterpart of the plugin's service. A systemd
// user timer per job where a systemd user session exists, else a marked block in the user's crontab. What was
// installed is recorded in <stateDir>/workspace-sync/schedule.json, so `remove` takes away exactly that and
// `status` can check it is still in place. Jobs call the bin with absolute paths, --state-dir and --config, so
// cron's small PATH and empty environment are enough; they run with -q (output only when something fails).
import { createHash } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { productDir } from "../state/paths.js";
import { readJson, writeJson } from "../state/state-store.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { OperationError, UsageError } from "../util/errors.js";
import { shellQuote } from "../util/redact-args.js";
import { cronBlock, cronExpression, type CronJob, findBlock, nextCronRun, withBlock } from "./cron.js";
import { nextFromListTimers, type SystemdJob, systemdUnits, type UnitFile, unitBase } from "./systemd.js";
import { runTool } from "./tool.js";

export type SchedulerKind = "systemd" | "cron";
export type JobName = "sync" | "backup";

export interface ScheduleRequest {
  stateDir: string;
  configFile: string;
  /** --workspace / --agent of the invocation, repeated in every job. */
  workspace?: string;
  agent?: string;
  /** Seconds; undefined or 0: no sync job. */
  syncIntervalS?: number;
  /** Seconds; undefined: no backup job. */
  backupIntervalS?: number;
  /** Folder of the rclone binary, put first on the jobs' PATH. */
  rcloneDir?: string;
  /** Node and bin of this installation (default: this process's Node and the package's bin). */
  nodePath?: string;
  binPath?: string;
}

export interface PlannedJob {
  job: JobName;
  intervalS: number;
  argv: string[];
  /** cron only */
  expression?: string;
  note?: string;
}

export interface SchedulePlan {
  kind: SchedulerKind;
  id: string;
  jobs: PlannedJob[];
  /** The crontab block, or the unit files (name → text), exactly as install writes them. */
  cronBlock?: string;
  units?: UnitFile[];
  unitDir?: string;
  logFile?: string;
}

export interface ScheduleRecord {
  kind: SchedulerKind;
  id: string;
  installedAt: string;
  jobs: { job: JobName; intervalS: number; expression?: string; note?: string }[];
  unitDir?: string;
  units?: string[];
  logFile?: string;
}

export interface JobStatus {
  job: JobName;
  intervalS: number;
  how: string;
  nextRun?: string;
  note?: string;
}

export interface ScheduleStatus {
  installed: boolean;
  kind?: SchedulerKind;
  id?: string;
  installedAt?: string;
  /** Installed and still in place (units enabled / crontab block present). */
  active: boolean;
  problem?: string;
  jobs: JobStatus[];
  logFile?: string;
  advice?: string;
}

const HEADER = "added by `workspace-sync schedule install`; `workspace-sync schedule remove` takes it away";

export function recordFile(stateDir: string): string {
  return path.join(productDir(stateDir), "schedule.json");
}

export async function readScheduleRecord(stateDir: string): Promise<ScheduleRecord | undefined> {
  return readJson<ScheduleRecord | undefined>(recordFile(stateDir), undefined);
}

/** Stable per (state dir, config, workspace/agent): two agents or two state dirs get their own jobs. */
export function scheduleId(r: Pick<ScheduleRequest, "stateDir" | "configFile" | "workspace" | "agent">): string {
  return createHash("sha256")
    .update([r.stateDir, r.configFile, r.workspace ?? "", r.agent ?? ""].join("\0"))
    .digest("hex")
    .slice(0, 8);
}

/** The package's own bin, two levels above every built module (dist/<folder>/x.js, dist/bundle/chunk.js). */
export function packageBin(): string {
  return fileURLToPath(new URL("../../bin/workspace-sync.js", import.meta.url));
}

function unitDirOf(env: NodeJS.ProcessEnv): string {
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME ?? os.homedir(), ".config");
  return path.join(config, "systemd", "user");
}

/** A systemd user manager answers (a login session, or lingering): timers can be installed. */
export async function systemdUserAvailable(env: NodeJS.ProcessEnv): Promise<boolean> {
  const r = await runTool("systemctl", ["--user", "show-environment"], { env, timeoutMs: 10_000 });
  return r.code === 0;
}

export async function detectScheduler(env: NodeJS.ProcessEnv): Promise<SchedulerKind> {
  if (await systemdUserAvailable(env)) return "systemd";
  const cron = await runTool("crontab", ["-l"], { env, timeoutMs: 10_000 });
  if (!cron.missing) return "cron";
  throw new OperationError(
    "no scheduler found: there is no systemd user session (systemctl --user) and no crontab command. Install cron " +
      "(Debian/Ubuntu: sudo apt-get install cron; Fedora: sudo dnf install cronie) or log in with a systemd session, then run this again",
  );
}

function jobArgv(req: ScheduleRequest, job: JobName): string[] {
  const argv = [req.nodePath ?? process.execPath, req.binPath ?? packageBin(), "--state-dir", req.stateDir, "--config", req.configFile];
  if (req.workspace) argv.push("--workspace", req.workspace);
  if (req.agent) argv.push("--agent", req.agent);
  argv.push(...(job === "sync" ? ["sync"] : ["backup", "now"]), "-q");
  return argv;
}

function jobPath(req: ScheduleRequest): string {
  const dirs = [req.rcloneDir, path.dirname(req.nodePath ?? process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].filter((d): d is string => !!d);
  return [...new Set(dirs)].join(":");
}

/** What `install` would put in place, without touching anything (`schedule install --print` shows it). */
export function planSchedule(req: ScheduleRequest, kind: SchedulerKind, env: NodeJS.ProcessEnv): SchedulePlan {
  const id = scheduleId(req);
  const wanted: { job: JobName; intervalS: number }[] = [];
  if (req.syncIntervalS) wanted.push({ job: "sync", intervalS: req.syncIntervalS });
  if (req.backupIntervalS) wanted.push({ job: "backup", intervalS: req.backupIntervalS });
  if (!wanted.length) {
    throw new UsageError(
      "nothing to schedule: sync.interval is 0 (sync only when asked) and scheduled backups are off (backup.enabled); set an interval in the plugin config first",
    );
  }
  const spread = parseInt(id.slice(0, 4), 16) / 0x10000;
  const jobs: PlannedJob[] = wanted.map((w) => {
    const argv = jobArgv(req, w.job);
    if (kind === "systemd") return { ...w, argv };
    const cron = cronExpression(w.intervalS, w.job === "backup" ? (spread + 0.5) % 1 : spread);
    return { ...w, argv, expression: cron.expression, ...(cron.note ? { note: cron.note } : {}) };
  });
  const description = `state dir ${req.stateDir}`;
  if (kind === "systemd") {
    const units = systemdUnits(id, jobs.map((j): SystemdJob => ({ job: j.job, intervalS: j.intervalS, argv: j.argv, path: jobPath(req) })), description);
    return { kind, id, jobs, units, unitDir: unitDirOf(env) };
  }
  const logFile = path.join(productDir(req.stateDir), "schedule.log");
  const cronJobs: CronJob[] = jobs.map((j) => ({
    job: j.job,
    expression: j.expression!,
    // cron runs the line with /bin/sh and mails any output: -q leaves only failures, which go to the log file (cron
    // mail is often not set up); a % would end the command (cron turns it into a newline)
    command: `PATH=${shellQuote(jobPath(req))} ${j.argv.map(shellQuote).join(" ")} >/dev/null 2>>${shellQuote(logFile)}`.replace(/%/g, "\\%"),
    ...(j.note ? { note: j.note } : {}),
  }));
  return { kind, id, jobs, cronBlock: cronBlock(id, cronJobs, `${HEADER} (${description})`), logFile };
}

async function readCrontab(env: NodeJS.ProcessEnv): Promise<string> {
  const r = await runTool("crontab", ["-l"], { env });
  if (r.missing) throw new OperationError("crontab is not installed (Debian/Ubuntu: sudo apt-get install cron)");
  if (r.code === 0) return r.stdout;
  if (/no crontab/i.test(r.stderr)) return ""; // crontab's own wording for an empty table; any other failure stops
  throw new OperationError(`crontab -l failed: ${r.stderr.trim()}`);
}

async function writeCrontab(text: string, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await runTool("crontab", ["-"], { env, input: text });
  if (r.code !== 0) throw new OperationError(`crontab - failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

async function systemctl(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const r = await runTool("systemctl", ["--user", ...args], { env });
  if (r.code !== 0) throw new OperationError(`systemctl --user ${args.join(" ")} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Units of this id that are in the unit folder (also ones of an older install that are no longer wanted). */
async function ownUnits(unitDir: string, id: string): Promise<string[]> {
  const prefix = `workspace-sync-${id}-`;
  const names = await readdir(unitDir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix) && (n.endsWith(".service") || n.endsWith(".timer")));
}

async function removeUnits(unitDir: string, id: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const units = await ownUnits(unitDir, id);
  const timers = units.filter((u) => u.endsWith(".timer"));
  if (timers.length) await runTool("systemctl", ["--user", "disable", "--now", ...timers], { env }); // gone already is fine
  for (const u of units) await rm(path.join(unitDir, u), { force: true });
  if (units.length) await runTool("systemctl", ["--user", "daemon-reload"], { env });
  return units;
}

export async function installSchedule(req: ScheduleRequest, plan: SchedulePlan, env: NodeJS.ProcessEnv): Promise<ScheduleRecord> {
  const previous = await readScheduleRecord(req.stateDir);
  // A schedule of another kind, or of another id (the config moved), is taken away first: never two of them.
  if (previous && (previous.kind !== plan.kind || previous.id !== plan.id)) await removeRecorded(previous, env);
  if (plan.kind === "cron") {
    await mkdir(path.dirname(plan.logFile!), { recursive: true, mode: 0o700 });
    const current = await readCrontab(env);
    await writeCrontab(withBlock(current, plan.id, plan.cronBlock), env);
  } else {
    const unitDir = plan.unitDir!;
    await mkdir(unitDir, { recursive: true });
    const wanted = new Set(plan.units!.map((u) => u.name));
    const stale = (await ownUnits(unitDir, plan.id)).filter((u) => !wanted.has(u));
    const staleTimers = stale.filter((u) => u.endsWith(".timer"));
    if (staleTimers.length) await runTool("systemctl", ["--user", "disable", "--now", ...staleTimers], { env });
    for (const u of stale) await rm(path.join(unitDir, u), { force: true });
    for (const u of plan.units!) await writeFileAtomic(path.join(unitDir, u.name), u.text, 0o644);
    await systemctl(["daemon-reload"], env);
    await systemctl(["enable", "--now", ...plan.units!.filter((u) => u.name.endsWith(".timer")).map((u) => u.name)], env);
  }
  const record: ScheduleRecord = {
    kind: plan.kind,
    id: plan.id,
    installedAt: new Date().toISOString(),
    jobs: plan.jobs.map((j) => ({ job: j.job, intervalS: j.intervalS, ...(j.expression ? { expression: j.expression } : {}), ...(j.note ? { note: j.note } : {}) })),
    ...(plan.unitDir ? { unitDir: plan.unitDir, units: plan.units!.map((u) => u.name) } : {}),
    ...(plan.logFile ? { logFile: plan.logFile } : {}),
  };
  await writeJson(recordFile(req.stateDir), record);
  return record;
}

async function removeRecorded(record: Pick<ScheduleRecord, "kind" | "id" | "unitDir">, env: NodeJS.ProcessEnv): Promise<string[]> {
  if (record.kind === "cron") {
    const current = await readCrontab(env);
    if (!findBlock(current, record.id)) return [];
    await writeCrontab(withBlock(current, record.id, undefined), env);
    return [`crontab block workspace-sync ${record.id}`];
  }
  return removeUnits(record.unitDir ?? unitDirOf(env), record.id, env);
}

/** Takes away what `install` put in place for this state dir (nothing else); returns what was removed. */
export async function removeSchedule(req: Pick<ScheduleRequest, "stateDir" | "configFile" | "workspace" | "agent">, env: NodeJS.ProcessEnv): Promise<string[]> {
  const record = await readScheduleRecord(req.stateDir);
  const removed: string[] = [];
  if (record) removed.push(...(await removeRecorded(record, env)));
  else {
    // No record (deleted by hand): what this invocation would have installed, of either kind, if it is there.
    const id = scheduleId(req);
    const cron = await runTool("crontab", ["-l"], { env });
    if (cron.code === 0 && findBlock(cron.stdout, id)) removed.push(...(await removeRecorded({ kind: "cron", id }, env)));
    removed.push(...(await removeUnits(unitDirOf(env), id, env)));
  }
  await rm(recordFile(req.stateDir), { force: true });
  return removed;
}

async function systemdNext(timer: string, env: NodeJS.ProcessEnv): Promise<Date | undefined> {
  const r = await runTool("systemctl", ["--user", "list-timers", "--all", "--output=json", timer], { env, timeoutMs: 10_000 });
  return r.code === 0 ? nextFromListTimers(r.stdout, timer) : undefined;
}

/** What is installed for this state dir, whether it is still in place, and when each job runs next. */
export async function scheduleStatus(stateDir: string, env: NodeJS.ProcessEnv, now = new Date()): Promise<ScheduleStatus> {
  const record = await readScheduleRecord(stateDir);
  if (!record) return { installed: false, active: false, jobs: [] };
  const base = { installed: true, kind: record.kind, id: record.id, installedAt: record.installedAt, ...(record.logFile ? { logFile: record.logFile } : {}) };
  if (record.kind === "cron") {
    let crontab: string | undefined;
    let problem: string | undefined;
    try {
      crontab = await readCrontab(env);
    } catch (err) {
      problem = (err as Error).message;
    }
    const present = crontab !== undefined && findBlock(crontab, record.id) !== undefined;
    if (!present) problem ??= `the crontab block "workspace-sync ${record.id}" is gone (edited by hand?): run \`workspace-sync schedule install\` again`;
    const jobs = record.jobs.map((j): JobStatus => {
      const next = present && j.expression ? nextCronRun(j.expression, now) : undefined;
      return { job: j.job, intervalS: j.intervalS, how: `cron "${j.expression}"`, ...(next ? { nextRun: next.toISOString() } : {}), ...(j.note ? { note: j.note } : {}) };
    });
    return { ...base, active: present, ...(problem ? { problem } : {}), jobs };
  }
  const unitDir = record.unitDir ?? unitDirOf(env);
  const files = new Set(await ownUnits(unitDir, record.id));
  const missing = (record.units ?? []).filter((u) => !files.has(u));
  const jobs: JobStatus[] = [];
  let inactive: string | undefined;
  for (const j of record.jobs) {
    const timer = `${unitBase(record.id, j.job)}.timer`;
    const enabled = await runTool("systemctl", ["--user", "is-active", timer], { env, timeoutMs: 10_000 });
    if (enabled.stdout.trim() !== "active") inactive ??= `${timer} is ${enabled.stdout.trim() || "not reachable (no systemd user session)"}`;
    const next = await systemdNext(timer, env);
    jobs.push({ job: j.job, intervalS: j.intervalS, how: `systemd timer ${timer}`, ...(next ? { nextRun: next.toISOString() } : {}) });
  }
  const problem = missing.length
    ? `unit file(s) gone: ${missing.join(", ")}: run \`workspace-sync schedule install\` again`
    : inactive
      ? `${inactive}: run \`workspace-sync schedule install\` again (or \`systemctl --user enable --now\` the timer)`
      : undefined;
  const linger = await runTool("loginctl", ["show-user", os.userInfo().username, "--property=Linger", "--value"], { env, timeoutMs: 10_000 });
  const advice =
    linger.code === 0 && linger.stdout.trim() === "no"
      ? `user timers run only while you are logged in: \`sudo loginctl enable-linger ${os.userInfo().username}\` keeps them running`
      : undefined;
  return { ...base, active: !problem, ...(problem ? { problem } : {}), jobs, ...(advice ? { advice } : {}) };
}
