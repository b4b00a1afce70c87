// Folders a sync or backup target must never be: a mirror push makes its target equal to the workspace (deleting
// everything else in it), and a bisync pull writes into it. The root, the system's own folders and the home folder
// itself are refused by name; the location rules (app/locations.ts) check the resolved path again at run time.
import path from "node:path";

/** Refused as the target itself (they hold other things: mounts, homes, temp files, the OS). */
const EXACT = new Set([
  "/",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/lost+found",
  "/media",
  "/mnt",
  "/opt",
  "/proc",
  "/root",
  "/run",
  "/run/media",
  "/sbin",
  "/snap",
  "/srv",
  "/sys",
  "/tmp",
  "/usr",
  "/usr/local",
  "/var",
  "/var/lib",
  "/var/tmp",
  // macOS
  "/Applications",
  "/Library",
  "/System",
  "/Users",
  "/Volumes",
  "/private",
  "/private/tmp",
  "/private/var",
]);

/** Refused with everything inside them: the operating system's own files. */
const TREES = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sbin", "/sys", "/System"];
/** Inside /usr only /usr/local/… is anyone's to use. */
const USR_OK = "/usr/local/";

const inside = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

/**
 * Why `folder` (absolute) cannot be a sync or backup target, or undefined when it can. `home` is the user's home
 * folder, refused itself (its parents are refused as /home, /Users or /root).
 */
export function systemFolderReason(folder: string, home?: string): string | undefined {
  const p = path.posix.resolve(folder.replace(/\\/g, "/"));
  if (p === "/") return "is the root folder";
  if (EXACT.has(p)) return `is ${p}, a system folder`;
  if (TREES.some((t) => inside(p, t))) return `is inside ${TREES.find((t) => inside(p, t))}, the operating system's own files`;
  if (inside(p, "/usr") && !p.startsWith(USR_OK)) return "is inside /usr, the operating system's own files";
  if (home && p === path.posix.resolve(home)) return "is your home folder itself";
  return undefined;
}

export const SYSTEM_FOLDER_ADVICE =
  "a mirror push makes its target equal to the workspace and deletes everything else there; choose a folder of its own, like \"/mnt/nas/openclaw\" or \"~/openclaw-sync\"";
