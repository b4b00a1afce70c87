// `workspace-sync schedule install|remove|status`: what the plugin's service does in the gateway, for a standalone
// install — the configured sync interval and backup interval as systemd user timers or a crontab block.
import os from "node:os";
import path from "node:path";
import { assertValid, loadContext, rcloneFor } from "../../app/context.js";
import type { AppContext } from "../../app/context.js";
import { formatDuration } from "../../report/format.js";
import { heartbeatAlive, readHeartbeat } from "../../schedule/heartbeat.js";
import {
  detectScheduler,
  installSchedule,
  planSchedule,
  removeSchedule,
  type ScheduleRequest,
  type SchedulerKind,
  type ScheduleStatus,
  scheduleStatus,
} from "../../schedule/install.js";
import { OperationError, UsageError } from "../../util/errors.js";
import { silentLogger } from "../../util/logger.js";
import type { Invocation } from "../invocation.js";

function request(inv: Invocation, ctx: AppContext): Omit<ScheduleRequest, "rcloneDir"> {
  const sync = ctx.config.sync;
  const backup = ctx.config.backup;
  return {
    stateDir: ctx.stateDir,
    configFile: ctx.configFile,
    ...(inv.globals.workspace ? { workspace: path.resolve(inv.globals.workspace) } : {}),
    ...(inv.globals.agent ? { agent: inv.globals.agent } : {}),
    ...(sync && sync.interval > 0 ? { syncIntervalS: sync.interval } : {}),
    ...(backup?.enabled ? { backupIntervalS: backup.interval } : {}),
  };
}

/**
 * Cron and systemd start jobs with almost no environment: a ${VAR} the config takes from the shell would be missing
 * in every scheduled run. Loading the config as a job will see it finds that before anything is installed.
 */
async function assertJobEnvironment(inv: Invocation, ctx: AppContext): Promise<void> {
  const bare = { HOME: ctx.env.HOME ?? os.homedir(), PATH: ctx.env.PATH ?? "" };
  const asJob = await loadContext({ config: ctx.configFile, stateDir: ctx.stateDir, workspace: inv.globals.workspace, agent: inv.globals.agent }, bare, silentLogger);
  if (!asJob.problems.length) return;
  throw new UsageError(
    `a scheduled job would not have what this shell has (cron and systemd do not read your shell's environment):\n` +
      asJob.problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n") +
      `\nput those variables in ${path.join(ctx.stateDir, ".env")} (0600), then run \`workspace-sync schedule install\` again`,
  );
}

function jobLines(s: ScheduleStatus): string[] {
  return s.jobs.map(
    (j) => `  ${j.job.padEnd(6)} every ${formatDuration(j.intervalS * 1000)} — ${j.how}${j.nextRun ? `, next ${j.nextRun}` : ""}${j.note ? ` (${j.note})` : ""}`,
  );
}

export async function install(inv: Invocation): Promise<void> {
  const ctx = await inv.context();
  assertValid(ctx);
  const bin = await rcloneFor(ctx);
  const req: ScheduleRequest = { ...request(inv, ctx), rcloneDir: path.dirname(bin.path) };
  const kind = (inv.opts.using as SchedulerKind | undefined) ?? (await detectScheduler(ctx.env));
  const plan = planSchedule(req, kind, ctx.env);
  if (inv.opts.print) {
    const text = plan.cronBlock ? [plan.cronBlock] : plan.units!.flatMap((u) => [`# ${path.join(plan.unitDir!, u.name)}`, u.text]);
    // --print is the answer itself: it is printed under -q too
    process.stdout.write(`${text.join("\n")}\n`);
    return;
  }
  await assertJobEnvironment(inv, ctx);
  await installSchedule(req, plan, ctx.env);
  const status = await scheduleStatus(ctx.stateDir, ctx.env);
  const where = kind === "cron" ? `a block "workspace-sync ${plan.id}" in the crontab of ${os.userInfo().username}` : `systemd user timers in ${plan.unitDir}`;
  const lines = [`installed ${where}:`, ...jobLines(status)];
  if (plan.logFile) lines.push(`errors of scheduled runs go to ${plan.logFile}; \`workspace-sync status\` shows the last runs`);
  if (status.advice) lines.push(`note: ${status.advice}`);
  if (heartbeatAlive(await readHeartbeat(ctx.stateDir))) {
    lines.push("note: the gateway's service runs these jobs too; runs take turns (one lock), so one of the two is enough");
  }
  lines.push("`workspace-sync schedule remove` takes it away again");
  inv.out.result(lines, status);
  if (status.problem) throw new OperationError(`installed, but ${status.problem}`);
}

export async function remove(inv: Invocation): Promise<void> {
  const ctx = await inv.context();
  const removed = await removeSchedule(request(inv, ctx), ctx.env);
  inv.out.result(removed.length ? [`removed: ${removed.join(", ")}`] : ["nothing was installed for this state dir"], { removed });
}

export async function status(inv: Invocation): Promise<void> {
  const ctx = await inv.context();
  const s = await scheduleStatus(ctx.stateDir, ctx.env);
  const lines = s.installed
    ? [
        `installed: ${s.kind === "cron" ? `crontab block "workspace-sync ${s.id}"` : `systemd user timers (workspace-sync-${s.id}-*)`} since ${s.installedAt}${s.active ? "" : " — NOT in place"}`,
        ...jobLines(s),
        ...(s.logFile ? [`log of failed runs: ${s.logFile}`] : []),
        ...(s.problem ? [`problem: ${s.problem}`] : []),
        ...(s.advice ? [`note: ${s.advice}`] : []),
      ]
    : ["no schedule installed for this state dir (`workspace-sync schedule install` sets one up)"];
  inv.out.result(lines, s);
  if (s.problem) throw new OperationError(s.problem);
}
