// Runs a system tool (crontab, systemctl, loginctl) and collects its output; a tool that is not installed is a
// result (`missing`), not an exception, so callers can say what to install.
import { spawn } from "node:child_process";

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  missing: boolean;
}

export function runTool(cmd: string, args: string[], o: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: o.env, stdio: ["pipe", "pipe", "pipe"], timeout: o.timeoutMs ?? 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.on("error", () => {}); // the tool may exit before reading its input; its exit code tells
    child.on("error", (err: NodeJS.ErrnoException) => resolve({ code: null, stdout, stderr: err.message, missing: err.code === "ENOENT" }));
    child.on("close", (code) => resolve({ code, stdout, stderr, missing: false }));
    child.stdin.end(o.input ?? "");
  });
}
