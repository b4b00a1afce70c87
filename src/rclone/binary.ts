// Finds the rclone binary and detects its version once per path.
import { UsageError } from "../util/errors.js";
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { writeFileAtomic } from "../util/atomic-file.js";
import { whichOnPath } from "../util/which.js";
import { atLeast, MIN_SUPPORTED, parseRcloneVersion, type RcloneVersion } from "./version.js";

const execFileAsync = promisify(execFile);

export interface RcloneBinary {
  path: string;
  version: RcloneVersion;
}

export class RcloneMissingError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "RcloneMissingError";
  }
}

const cache = new Map<string, Promise<RcloneBinary>>();

export function installHint(): string {
  if (process.platform === "darwin") return "install it with: brew install rclone";
  if (process.platform === "win32") return "install it with: winget install Rclone.Rclone";
  return "install it with your package manager, e.g.: sudo apt-get install -y rclone (Debian/Ubuntu), sudo dnf install rclone (Fedora), sudo apk add rclone (Alpine)";
}

interface VersionCache {
  path: string;
  size: number;
  mtimeMs: number;
  output: string;
}

/** `rclone version` costs a process start; a fresh CLI run reuses the answer while the binary is unchanged. */
async function cachedVersionOutput(binPath: string, cacheFile: string | undefined): Promise<string | undefined> {
  if (!cacheFile) return undefined;
  try {
    const [st, cache] = await Promise.all([stat(binPath), readFile(cacheFile, "utf8").then((t) => JSON.parse(t) as VersionCache)]);
    if (cache.path === binPath && cache.size === st.size && cache.mtimeMs === st.mtimeMs) return cache.output;
  } catch {
    // no cache yet
  }
  return undefined;
}

/** How a message names the binary: the config key when the user configured it, else where PATH led. */
function describe(binPath: string, explicit: boolean): string {
  return explicit ? `rclonePath ${JSON.stringify(binPath)}` : `rclone at ${binPath}`;
}

async function detect(binPath: string, explicit: boolean, cacheFile?: string): Promise<RcloneBinary> {
  const cached = await cachedVersionOutput(binPath, cacheFile);
  if (cached) return { path: binPath, version: parseRcloneVersion(cached) };
  const what = describe(binPath, explicit);
  const fix = explicit ? "fix rclonePath in the plugin config, or remove it to use rclone from PATH" : installHint();
  let stdout: string;
  try {
    // `rclone version` needs nothing from the environment; a bare one keeps exported secrets out of its /proc entry.
    // No config file either: without --config rclone creates ~/.config/rclone just to look for one.
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
    ({ stdout } = await execFileAsync(binPath, ["version", "--config", os.devNull], { timeout: 20_000, maxBuffer: 1 << 20, env }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "does not exist" : code === "EACCES" ? "is not an executable file" : `could not run (${(err as Error).message.split("\n")[0]})`;
    throw new RcloneMissingError(`${what} ${why}; ${fix}`);
  }
  let version: RcloneVersion;
  try {
    version = parseRcloneVersion(stdout);
  } catch {
    const first = (stdout.split("\n")[0] ?? "").replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
    throw new RcloneMissingError(`${what} does not look like rclone: \`rclone version\` printed ${JSON.stringify(first)}; ${fix}`);
  }
  if (cacheFile && atLeast(version, MIN_SUPPORTED[0], MIN_SUPPORTED[1])) {
    const st = await stat(binPath).catch(() => undefined);
    if (st) await writeFileAtomic(cacheFile, JSON.stringify({ path: binPath, size: st.size, mtimeMs: st.mtimeMs, output: stdout.split("\n")[0] })).catch(() => {});
  }
  if (!atLeast(version, MIN_SUPPORTED[0], MIN_SUPPORTED[1])) {
    throw new RcloneMissingError(
      `${what} is rclone ${version.raw}, which is too old: openclaw-workspace-sync needs rclone >= ${MIN_SUPPORTED.join(".")}; ${explicit ? `${fix}; ` : ""}${installHint()}`,
    );
  }
  return { path: binPath, version };
}

/** Resolves rclone from an explicit path (config `rclonePath`), else PATH. Detection is cached per path. */
export async function findRclone(explicitPath?: string, envPath = process.env.PATH, cacheFile?: string): Promise<RcloneBinary> {
  const resolved = explicitPath ?? (await whichOnPath(process.platform === "win32" ? "rclone.exe" : "rclone", envPath));
  if (!resolved) throw new RcloneMissingError(`rclone was not found on PATH; ${installHint()}`);
  let found = cache.get(resolved);
  if (!found) {
    found = detect(resolved, explicitPath !== undefined, cacheFile);
    cache.set(resolved, found);
    found.catch(() => cache.delete(resolved));
  }
  return found;
}

/** Test hook: pretend the binary is another version (used to exercise newer-rclone code paths). */
export function withVersion(bin: RcloneBinary, raw: string): RcloneBinary {
  return { ...bin, version: parseRcloneVersion(`rclone v${raw}`) };
}
