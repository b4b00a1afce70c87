// session_start / session_end: queue the configured mode's cycle to the service and return at once. The session
// never waits for a sync, and at gateway shutdown all plugins' session_end handlers share a 2-second budget, so a
// handler here only records a request (synchronously) and never throws.
import type { HostLogger, SessionEndEvent, SessionHookContext, SessionStartEvent } from "./host-api.js";
import type { TriggerKind } from "./scheduler.js";
import { activeService, type WorkspaceSyncService } from "./service.js";

type SessionTrigger = Extract<TriggerKind, "session_start" | "session_end">;

/** Reasons a session ends because the gateway itself goes away: the service is stopping, nothing new may start. */
const SHUTDOWN_REASONS = new Set(["shutdown", "restart"]);

export function queueSessionCycle(
  kind: SessionTrigger,
  event: SessionStartEvent | SessionEndEvent,
  ctx: SessionHookContext,
  log: HostLogger,
  service: WorkspaceSyncService | undefined = activeService(),
): string {
  try {
    if (!service) return "no-service";
    const sync = service.ctx?.config.sync;
    if (!sync) return "not-configured";
    if (kind === "session_start" && !sync.onSessionStart) return "disabled";
    if (kind === "session_end" && !sync.onSessionEnd) return "disabled";
    if (kind === "session_end" && SHUTDOWN_REASONS.has((event as SessionEndEvent).reason ?? "")) return "shutdown";
    if (!service.sessionUsesSyncedWorkspace(ctx.agentId)) {
      log.debug?.(`workspace-sync: ${kind} of agent ${ctx.agentId} ignored: that agent has its own workspace, not the synced one`);
      return "other-workspace";
    }
    const outcome = service.requestSync({ kind, sessionKey: ctx.sessionKey ?? event.sessionKey, agentId: ctx.agentId });
    log.debug?.(`workspace-sync: ${kind} → sync ${outcome}`);
    return outcome;
  } catch (err) {
    log.error(`workspace-sync: ${kind} hook failed: ${(err as Error).message}`);
    return "error";
  }
}

export function sessionHandlers(log: HostLogger) {
  return {
    sessionStart: (event: SessionStartEvent, ctx: SessionHookContext): void => {
      queueSessionCycle("session_start", event, ctx, log);
    },
    sessionEnd: (event: SessionEndEvent, ctx: SessionHookContext): void => {
      queueSessionCycle("session_end", event, ctx, log);
    },
  };
}
