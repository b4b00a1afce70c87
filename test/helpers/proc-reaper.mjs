// Runs one command as a child and never lets it outlive the test process (see servers.ts).
// Usage: node proc-reaper.mjs <command> [args...]
// - The test process holds our stdin open; EOF (it exited or was killed, even by SIGKILL) => SIGKILL the child.
// - SIGTERM/SIGINT/SIGHUP are forwarded to the child; we exit when it does, with its status.
// Servers are spawned in their own process group, so the harness can also signal reaper + child at once.
import { spawn } from "node:child_process";
import { constants } from "node:os";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write("proc-reaper: no command\n");
  process.exit(2);
}

const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"], env: process.env });

function signalChild(sig) {
  try {
    child.kill(sig);
  } catch {
    // already gone
  }
}

child.on("error", (err) => {
  process.stderr.write(`proc-reaper: cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
});

for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => signalChild(sig));

function parentGone() {
  signalChild("SIGKILL");
  setTimeout(() => process.exit(0), 200).unref();
}
process.stdin.on("end", parentGone);
process.stdin.on("error", parentGone);
process.stdin.resume();
