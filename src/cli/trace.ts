// -v: every child process this invocation starts (rclone above all) is shown as it starts and when it ends, with
// its duration and exit status. Observed through Node's `child_process` diagnostics channel, so no engine has to
// report its calls. Arguments are redacted (configured secrets, credential options) before they are printed.
import { type ChildProcess } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import path from "node:path";
import { formatDuration } from "../report/format.js";
import { registeredSecrets } from "../util/child-env.js";
import { redactArgs, shellQuote } from "../util/redact-args.js";
import type { Logger } from "../util/logger.js";

const CHANNEL = "child_process";

/** Starts tracing; returns the function that stops it. */
export function traceChildren(log: Logger): () => void {
  const onChild = (message: unknown) => {
    const child = (message as { process?: ChildProcess }).process;
    if (!child) return;
    const started = performance.now();
    child.once("spawn", () => {
      const [file, ...args] = child.spawnargs;
      const shown = [path.basename(file ?? child.spawnfile), ...redactArgs(args, registeredSecrets())].map(shellQuote).join(" ");
      log.debug(`run: ${shown}`);
      child.once("exit", (code, signal) => {
        log.debug(`${path.basename(child.spawnfile)} ${args[0] ?? ""} ended in ${formatDuration(performance.now() - started)} (${signal ? `signal ${signal}` : `exit ${code}`})`);
      });
    });
  };
  subscribe(CHANNEL, onChild);
  return () => unsubscribe(CHANNEL, onChild);
}
