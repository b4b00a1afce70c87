// `workspace-sync --version`: the product, the Node.js running it and the rclone it would use (what a bug report
// needs). Reads no config: it answers on a machine that has none.
import { readFile } from "node:fs/promises";
import { findRclone } from "../rclone/binary.js";

/** The package.json two levels above every built module (dist/cli/x.js, dist/bundle/cli.js). */
async function packageVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { name?: string; version?: string };
    return `${pkg.version ?? "unknown"}`;
  } catch {
    return "unknown";
  }
}

export async function versionText(env: NodeJS.ProcessEnv): Promise<string> {
  let rclone: string;
  try {
    const bin = await findRclone(undefined, env.PATH);
    rclone = `rclone ${bin.version.raw} (${bin.path})`;
  } catch (err) {
    rclone = `rclone: ${(err as Error).message}`;
  }
  return [`workspace-sync ${await packageVersion()}`, `node ${process.version} (${process.execPath})`, rclone].join("\n");
}

const VALUE_GLOBALS = new Set(["--config", "--state-dir", "--workspace", "--agent"]);

/** True when -V/--version comes among the global options, before any command name. */
export function wantsVersion(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-V" || a === "--version") return true;
    if (VALUE_GLOBALS.has(a)) i++;
    else if (!a.startsWith("-") || a === "--") return false;
  }
  return false;
}
