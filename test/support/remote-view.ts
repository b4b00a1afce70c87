// Reads what a remote really holds, through rclone and the product's own rclone.conf.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { testEnv } from "./cli.js";

const run = promisify(execFile);

export function productConf(stateDir: string): string {
  return path.join(stateDir, "workspace-sync", "rclone.conf");
}

export async function rclone(stateDir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("rclone", [...args, "--config", productConf(stateDir)], { env: testEnv(), maxBuffer: 64 << 20 });
  return stdout;
}

export async function rcloneBuffer(stateDir: string, ...args: string[]): Promise<Buffer> {
  const { stdout } = await run("rclone", [...args, "--config", productConf(stateDir)], { env: testEnv(), maxBuffer: 256 << 20, encoding: "buffer" });
  return stdout;
}

/** relpath → content for every file under the remote folder (small trees only). */
export async function remoteTree(stateDir: string, target: string): Promise<Record<string, string>> {
  let listing: { Path: string }[] = [];
  try {
    listing = JSON.parse(await rclone(stateDir, "lsjson", "-R", "--files-only", "--fast-list", target)) as { Path: string }[];
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const f of listing) out[f.Path] = await rclone(stateDir, "cat", `${target}/${f.Path}`);
  return out;
}

export async function remotePut(stateDir: string, target: string, content: string): Promise<void> {
  const child = execFile("rclone", ["rcat", target, "--config", productConf(stateDir)], { env: testEnv() });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdin!.end(content);
  await new Promise<void>((resolve, reject) =>
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`rclone rcat ${target} exited ${code}: ${stderr}`)))),
  );
}

export async function remoteDelete(stateDir: string, target: string): Promise<void> {
  await rclone(stateDir, "deletefile", target);
}
