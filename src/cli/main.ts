// Standalone entry: parse argv, run, map errors to exit codes. Errors never echo secrets: messages are
// built from key names and rclone's summarised errors only.
import { CommanderError } from "commander";
import { reportFailure } from "./failure.js";
import { tuneHeapForStreaming } from "./heap-tuning.js";
import { onInterrupt } from "./interrupt.js";
import type { GlobalOptions } from "./invocation.js";
import { buildProgram, toOption } from "./program.js";
import { VERSION_OPTION } from "./spec.js";
import { versionText, wantsVersion } from "./version.js";

/**
 * `workspace-sync … | head`: when the reader goes away, the run ends quietly with exit 0, as rclone and restic do,
 * instead of an EPIPE stack trace. Results go to stdout only after the work is done, so nothing is left half-way;
 * a closed stderr (progress, log lines) is ignored and the run goes on.
 */
function quietOnClosedPipes(): void {
  if (process.stdout.listenerCount("error") === 0) process.stdout.on("error", (err: NodeJS.ErrnoException) => process.exit(err.code === "EPIPE" ? 0 : 1));
  if (process.stderr.listenerCount("error") === 0) process.stderr.on("error", () => {});
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  quietOnClosedPipes();
  if (wantsVersion(argv)) {
    process.stdout.write(`${await versionText(env)}\n`);
    return 0;
  }
  const interrupt = onInterrupt();
  let failed: number | undefined;
  const program = buildProgram({
    env,
    signal: interrupt.signal,
    displayName: "workspace-sync",
    tuneForStreaming: tuneHeapForStreaming,
    onFailure: (err, cmd) => {
      failed = reportFailure(err, { verbose: cmd.optsWithGlobals<GlobalOptions>().verbose, cmd });
    },
  });
  program.addOption(toOption(VERSION_OPTION));
  try {
    await program.parseAsync(argv, { from: "user" });
    return interrupt.exitCode() ?? failed ?? 0;
  } catch (err) {
    // commander has printed its own message (and the --help hint) already
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return interrupt.exitCode() ?? reportFailure(err, { verbose: program.opts<GlobalOptions>().verbose });
  } finally {
    interrupt.dispose();
  }
}
