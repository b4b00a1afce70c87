// Chat slash commands, answered by the plugin without an LLM turn: /sync-status, /sync-now, /backup-now.
import type { SlashCommand, SlashCommandContext, SlashCommandResult } from "./host-api.js";
import { activeService, type WorkspaceSyncService } from "./service.js";

/** /sync-now waits this long for the cycle before answering "still running". */
export const SYNC_NOW_WAIT_MS = 20_000;

const NOT_RUNNING = "workspace-sync: the background service is not running in this gateway process.";

function problemsText(service: WorkspaceSyncService): string {
  if (service.startError) return `workspace-sync is idle: ${service.startError}`;
  return [
    "workspace-sync is idle: the plugin config has problems (plugins.entries.openclaw-workspace-sync.config):",
    ...service.problems.map((p) => `- ${p.key}: ${p.message}`),
  ].join("\n");
}

function when(ms: number | undefined): string {
  return ms === undefined ? "—" : new Date(ms).toISOString();
}

export async function syncStatusText(service: WorkspaceSyncService | undefined): Promise<string> {
  if (!service) return NOT_RUNNING;
  if (!service.ctx || service.startError || service.problems.length) return problemsText(service);
  const lines: string[] = [];
  try {
    const { buildStatus, formatStatus } = await import("../report/status.js");
    lines.push(formatStatus(await buildStatus(service.ctx)));
  } catch (err) {
    lines.push(`status unavailable: ${(err as Error).message}`);
  }
  for (const [label, sched, last] of [
    ["sync", service.sync, service.lastSync],
    ["backup", service.backup, service.lastBackup],
  ] as const) {
    if (!sched) continue;
    const s = sched.snapshot();
    const state = s.running ? `running since ${when(s.runningSince)}${s.pending ? " (one more queued)" : ""}` : `next ${when(s.nextRunAt)}`;
    lines.push(`service ${label}: ${state}${last ? `; last ${last.at} ${last.ok ? "ok" : "FAILED"}: ${last.summary}` : ""}`);
  }
  return lines.join("\n");
}

export async function syncNowText(service: WorkspaceSyncService | undefined, ctx: SlashCommandContext, waitMs = SYNC_NOW_WAIT_MS): Promise<string> {
  if (!service) return NOT_RUNNING;
  const outcome = service.requestSync({ kind: "command", sessionKey: ctx.sessionKey, agentId: ctx.agentId });
  if (outcome === "idle-config-problems") return problemsText(service);
  if (outcome === "not-configured") return "workspace-sync: sync is not configured (set sync.provider and sync.mode).";
  if (outcome === "stopped") return "workspace-sync: the service is stopping.";
  const before = service.lastSync;
  const idle = await service.sync?.whenIdle(waitMs);
  if (!idle) return `workspace-sync: sync ${outcome === "queued" ? "queued after the run in progress" : "started"}; still running — /sync-status shows the result.`;
  const last = service.lastSync;
  if (!last || last === before) return "workspace-sync: sync finished.";
  return last.ok ? `workspace-sync: sync done — ${last.summary}` : `workspace-sync: sync FAILED — ${last.summary}`;
}

export function backupNowText(service: WorkspaceSyncService | undefined): string {
  if (!service) return NOT_RUNNING;
  const outcome = service.requestBackup({ kind: "command" });
  if (outcome === "idle-config-problems") return problemsText(service);
  if (outcome === "not-configured") return "workspace-sync: backup is not configured (add a backup block to the plugin config).";
  if (outcome === "stopped") return "workspace-sync: the service is stopping.";
  return `workspace-sync: backup ${outcome === "queued" ? "queued after the backup in progress" : "started"} in the background — /sync-status shows the result.`;
}

function reply(text: string): SlashCommandResult {
  return { text };
}

async function guarded(run: () => Promise<string> | string): Promise<SlashCommandResult> {
  try {
    return reply(await run());
  } catch (err) {
    return reply(`workspace-sync: ${(err as Error).message}`);
  }
}

export function slashCommands(): SlashCommand[] {
  return [
    {
      name: "sync-status",
      description: "Workspace sync and backup status (no LLM turn)",
      acceptsArgs: false,
      handler: () => guarded(() => syncStatusText(activeService())),
    },
    {
      name: "sync-now",
      description: "Run one workspace sync cycle now (no LLM turn)",
      acceptsArgs: false,
      handler: (ctx) => guarded(() => syncNowText(activeService(), ctx)),
    },
    {
      name: "backup-now",
      description: "Start an encrypted backup snapshot now (no LLM turn)",
      acceptsArgs: false,
      handler: () => guarded(() => backupNowText(activeService())),
    },
  ];
}
