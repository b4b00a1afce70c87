// Maps errors to the documented exit codes: 0 ok, 1 operation failed, 2 bad usage/config, 3 busy.
import { RcloneMissingError } from "../rclone/binary.js";
import { UnsupportedFlagError } from "../rclone/version.js";
import { BusyError } from "../state/lock.js";

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof BusyError) return EXIT.busy;
  if (err instanceof RcloneMissingError || err instanceof UnsupportedFlagError) return EXIT.usage;
  const code = (err as { exitCode?: unknown }).exitCode;
  if (code === 1 || code === 2 || code === 3) return code;
  if ((err as { code?: string }).code?.startsWith?.("commander.")) return EXIT.usage;
  return EXIT.failed;
}
