// Ctrl-C / SIGTERM / SIGHUP for the standalone bin. rclone runs in its own process group (so a timeout can end
// its whole tree), which also means the terminal's Ctrl-C does not reach it: the first signal aborts the run —
// the engines stop their rclone children and record the failure, as after any other error — and a second signal
// exits at once. The exit code is the shell's convention for a signal (130 for SIGINT, 143 for SIGTERM).
import os from "node:os";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export interface Interrupt {
  signal: AbortSignal;
  /** 128 + the signal number when the run was interrupted, else undefined. */
  exitCode(): number | undefined;
  dispose(): void;
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const codeOf = (sig: NodeJS.Signals) => 128 + (os.constants.signals[sig] ?? 2);
  const handler = (sig: NodeJS.Signals) => {
    if (received) process.exit(codeOf(sig));
    received = sig;
    process.stderr.write(`workspace-sync: ${sig} received, stopping (again to quit at once)…\n`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    signal: controller.signal,
    exitCode: () => (received ? codeOf(received) : undefined),
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
