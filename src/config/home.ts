// Home-relative paths: `~` is expanded from the given env (HOME / USERPROFILE) so tests and the CLI agree.
import os from "node:os";
import path from "node:path";

export type Env = Record<string, string | undefined>;

export function homeDir(env: Env): string {
  return env.HOME || env.USERPROFILE || os.homedir();
}

/** Expands a leading `~` or `~/`; anything else is returned unchanged. */
export function expandHome(p: string, env: Env): string {
  if (p === "~") return homeDir(env);
  if (p.startsWith("~/") || p.startsWith("~\\")) return path.join(homeDir(env), p.slice(2));
  return p;
}

/** Expands `~` and makes the path absolute (relative paths are taken from the current directory, as a shell would). */
export function resolveUserPath(p: string, env: Env): string {
  return path.resolve(expandHome(p, env));
}

/** The OpenClaw state dir: a --state-dir flag, else $OPENCLAW_STATE_DIR, else ~/.openclaw (PRODUCT.md §1). */
export function resolveStateDir(flag: string | undefined, env: Env): string {
  // A flag or variable set to "" counts as not given (an empty `export VAR=` must not point at the cwd).
  const set = [flag, env.OPENCLAW_STATE_DIR].find((v) => v && v.trim());
  return set ? resolveUserPath(set, env) : path.join(homeDir(env), ".openclaw");
}
