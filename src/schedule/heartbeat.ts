// The plugin service's heartbeat: a small 0600 file the gateway's service rewrites every minute and after each run,
// so a CLI process (`status`) can tell whether something will actually run the next sync or backup, and when.
import os from "node:os";
import path from "node:path";
import { ownerAlive } from "../state/lock.js";
import { productDir } from "../state/paths.js";
import { readJson, writeJson } from "../state/state-store.js";

/** How often the service rewrites the file; a beat older than three periods means the service is gone. */
export const HEARTBEAT_EVERY_MS = 60_000;
const STALE_AFTER_MS = 3 * HEARTBEAT_EVERY_MS;

export interface JobBeat {
  /** 0 = no timer: runs only when asked (hooks, slash commands). */
  intervalS: number;
  nextRunAt?: string;
  runningSince?: string;
}

export interface ServiceHeartbeat {
  pid: number;
  host: string;
  startedAt: string;
  beatAt: string;
  /** Set by a clean stop: nothing runs the schedule any more. */
  stoppedAt?: string;
  sync?: JobBeat;
  backup?: JobBeat;
}

export function heartbeatFile(stateDir: string): string {
  return path.join(productDir(stateDir), "service-heartbeat.json");
}

export async function readHeartbeat(stateDir: string): Promise<ServiceHeartbeat | undefined> {
  return readJson<ServiceHeartbeat | undefined>(heartbeatFile(stateDir), undefined);
}

export async function writeHeartbeat(stateDir: string, beat: ServiceHeartbeat): Promise<void> {
  await writeJson(heartbeatFile(stateDir), beat);
}

/** A service that beat recently, was not stopped, and (on this host) whose process still exists. */
export function heartbeatAlive(beat: ServiceHeartbeat | undefined, now = Date.now()): boolean {
  if (!beat || beat.stoppedAt) return false;
  if (now - Date.parse(beat.beatAt) > STALE_AFTER_MS) return false;
  if (beat.host !== os.hostname()) return true;
  return ownerAlive({ pid: beat.pid, host: beat.host, purpose: "service", since: beat.startedAt, nonce: "" });
}
