import { describe, expect, it } from "vitest";
import { loadPluginConfig } from "./load.js";
import { systemFolderReason } from "./system-folders.js";

describe("system folders are refused as local targets", () => {
  it("refuses the root, system folders (and what is inside the OS's own), the home folder itself", () => {
    const home = "/home/tester";
    for (const p of ["/", "//", "/etc", "/etc/openclaw", "/usr", "/usr/share/x", "/bin", "/boot", "/dev", "/proc/1", "/sys", "/var", "/tmp", "/home", "/mnt", "/media", "/root", "/srv", "/opt", "/Users", "/Volumes", "/home/tester", "/home/tester/", "/mnt/../etc"]) {
      expect(systemFolderReason(p, home), p).toBeDefined();
    }
    for (const p of ["/mnt/nas/openclaw", "/media/usb", "/srv/backups", "/home/tester/openclaw-sync", "/var/backups/openclaw", "/usr/local/backups", "/tmp/sync-test", "/run/media/tester/USB", "/Volumes/NAS"]) {
      expect(systemFolderReason(p, home), p).toBeUndefined();
    }
  });

  it("the loader names the key, for sync and backup blocks, `~` expanded first", () => {
    const env = { HOME: "/home/tester" };
    const r = loadPluginConfig(
      { sync: { provider: "local", mode: "mirror", local: { path: "/" } }, backup: { provider: "local", local: { path: "~" }, include: ["workspace"] } },
      env,
    );
    expect(r.problems.map((p) => p.key)).toEqual(["sync.local.path", "backup.local.path"]);
    expect(r.problems[0]!.message).toMatch(/root folder.*choose a folder of its own/);
    expect(r.problems[1]!.message).toMatch(/home folder itself/);
    const flat = loadPluginConfig({ provider: "local", mode: "mirror", local: { path: "/etc" } }, env);
    expect(flat.problems.map((p) => p.key)).toEqual(["local.path"]);
  });
});
