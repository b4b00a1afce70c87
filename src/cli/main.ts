// Standalone entry: parse argv, run, map errors to exit codes. Errors never echo secrets: messages are
// built from key names and rclone's summarised errors only.
import { CommanderError } from "commander";
import { buildProgram } from "./program.js";
import { exitCodeFor } from "./exit-codes.js";
import { onInterrupt } from "./interrupt.js";

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const interrupt = onInterrupt();
  const program = buildProgram({ env, signal: interrupt.signal });
  try {
    await program.parseAsync(argv, { from: "user" });
    return interrupt.exitCode() ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0) return 0;
      return 2;
    }
    process.stderr.write(`workspace-sync: ${(err as Error).message}\n`);
    return interrupt.exitCode() ?? exitCodeFor(err);
  } finally {
    interrupt.dispose();
  }
}
