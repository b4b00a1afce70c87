// notifyOnInbox: after a drain (mailbox) or ingest (mirror) that brought files, exactly one system event naming
// them (bounded) to the session that should react, plus one heartbeat request so the agent wakes up to it.
// Nothing when no file arrived or the option is off: an agent turn costs the user money.
import type { HostLogger, HostRuntime } from "./host-api.js";

export const MAX_NAMED_FILES = 20;
const MAX_TEXT = 1_500;

export function inboxEventText(arrived: readonly string[], folder = "_inbox"): string {
  const shown = arrived.slice(0, MAX_NAMED_FILES);
  let text = `[workspace-sync] New files in ${folder}: ${shown.join(", ")}`;
  if (arrived.length > shown.length) text += ` … and ${arrived.length - shown.length} more`;
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT - 1)}…`;
  return text;
}

export interface InboxTarget {
  agentId: string;
  sessionKey: string;
}

/** Main session key of an agent, as the host builds it (`agent:<id>:<mainKey>`, mainKey defaults to "main"). */
export function mainSessionKey(config: object, agentId: string): string {
  const mainKey = (config as { session?: { mainKey?: unknown } }).session?.mainKey;
  const key = typeof mainKey === "string" && mainKey.trim() ? mainKey.trim().toLowerCase() : "main";
  return `agent:${agentId}:${key}`;
}

/**
 * Sends the notification. Returns true when an event was enqueued. Never throws: a notification problem is
 * logged, the sync itself already succeeded.
 */
export function notifyInbox(
  runtime: Pick<HostRuntime, "system">,
  log: HostLogger,
  target: InboxTarget,
  arrived: readonly string[],
  opts: { enabled: boolean; folder?: string },
): boolean {
  if (!opts.enabled || arrived.length === 0) return false;
  try {
    const text = inboxEventText(arrived, opts.folder);
    const accepted = runtime.system.enqueueSystemEvent(text, {
      sessionKey: target.sessionKey,
      agentId: target.agentId,
      contextKey: "workspace-sync:inbox",
    });
    if (!accepted) {
      log.warn(`workspace-sync: the host did not accept the inbox notification for ${target.sessionKey}`);
      return false;
    }
    runtime.system.requestHeartbeat({
      source: "other",
      intent: "event",
      reason: "workspace-sync: new files in the inbox",
      agentId: target.agentId,
      sessionKey: target.sessionKey,
    });
    log.info(`workspace-sync: notified ${target.sessionKey} of ${arrived.length} new file(s)`);
    return true;
  } catch (err) {
    log.warn(`workspace-sync: inbox notification failed: ${(err as Error).message}`);
    return false;
  }
}
