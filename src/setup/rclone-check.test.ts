import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkRclone, installCommand, readOsInfo } from "./rclone-check.js";

describe("rclone missing: the package-manager command for this OS", () => {
  it("knows the common systems, and never suggests piping a download into a shell", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "osrel-"));
    const osRelease = async (text: string) => {
      const f = path.join(dir, "os-release");
      await writeFile(f, text);
      return readOsInfo("linux", f);
    };
    expect(installCommand(await osRelease('ID=debian\nVERSION_ID="12"\n'))).toBe("sudo apt-get install -y rclone");
    expect(installCommand(await osRelease('ID=linuxmint\nID_LIKE="ubuntu debian"\n'))).toBe("sudo apt-get install -y rclone");
    expect(installCommand(await osRelease("ID=fedora\n"))).toBe("sudo dnf install -y rclone");
    expect(installCommand(await osRelease("ID=alpine\n"))).toBe("sudo apk add rclone");
    expect(installCommand(await osRelease("ID=arch\n"))).toBe("sudo pacman -S --needed rclone");
    expect(installCommand({ platform: "darwin", ids: [] })).toBe("brew install rclone");
    expect(installCommand({ platform: "win32", ids: [] })).toBe("winget install Rclone.Rclone");
    expect(installCommand(await osRelease("ID=plan9\n"))).toBeUndefined();
    for (const ids of [["debian"], ["fedora"], ["alpine"], ["unknown"]]) expect(installCommand({ platform: "linux", ids }) ?? "").not.toMatch(/curl|wget|\| *(ba)?sh/);
  });

  it("reports a missing rclone with the advice instead of throwing", async () => {
    const res = await checkRclone(undefined, "/nonexistent-bin");
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error).toMatch(/not found on PATH/);
      expect(res.advice).toMatch(/install it/);
    }
  });
});
