// Is rclone there, and if not, the exact package-manager command for this OS (never a download piped into a shell).
import { readFileSync } from "node:fs";
import { findRclone, type RcloneBinary } from "../rclone/binary.js";

export interface OsInfo {
  platform: NodeJS.Platform;
  /** /etc/os-release ID and ID_LIKE (Linux), lower case. */
  ids: string[];
}

export function readOsInfo(platform: NodeJS.Platform = process.platform, osRelease = "/etc/os-release"): OsInfo {
  if (platform !== "linux") return { platform, ids: [] };
  try {
    const text = readFileSync(osRelease, "utf8");
    const ids: string[] = [];
    for (const line of text.split("\n")) {
      const m = /^(ID|ID_LIKE)=(.*)$/.exec(line.trim());
      if (m) ids.push(...m[2]!.replace(/["']/g, "").toLowerCase().split(/\s+/).filter(Boolean));
    }
    return { platform, ids };
  } catch {
    return { platform, ids: [] };
  }
}

/** The install command for rclone on this OS, or undefined when the package manager is not known. */
export function installCommand(os: OsInfo): string | undefined {
  if (os.platform === "darwin") return "brew install rclone";
  if (os.platform === "win32") return "winget install Rclone.Rclone";
  if (os.platform === "freebsd") return "sudo pkg install rclone";
  const is = (...names: string[]) => os.ids.some((id) => names.includes(id));
  if (is("debian", "ubuntu")) return "sudo apt-get install -y rclone";
  if (is("fedora", "rhel", "centos", "rocky", "almalinux")) return "sudo dnf install -y rclone";
  if (is("alpine")) return "sudo apk add rclone";
  if (is("arch", "manjaro")) return "sudo pacman -S --needed rclone";
  if (is("opensuse", "suse", "opensuse-leap", "opensuse-tumbleweed")) return "sudo zypper install -y rclone";
  if (is("nixos")) return "nix-env -iA nixpkgs.rclone";
  return undefined;
}

export function installAdvice(os: OsInfo = readOsInfo()): string {
  const cmd = installCommand(os);
  return cmd
    ? `install it with your package manager:\n  ${cmd}`
    : "install it with your system's package manager (the package is called rclone), or see https://rclone.org/install/";
}

export type RcloneCheck = { ok: true; bin: RcloneBinary } | { ok: false; error: string; advice: string };

export async function checkRclone(rclonePath: string | undefined, envPath: string | undefined, cacheFile?: string): Promise<RcloneCheck> {
  try {
    return { ok: true, bin: await findRclone(rclonePath, envPath, cacheFile) };
  } catch (err) {
    // findRclone's message ends with its own short hint; keep only the cause and give the precise command.
    const error = (err as Error).message.replace(/;\s*install it with.*$/s, "");
    return { ok: false, error, advice: installAdvice() };
  }
}
