// Fault case 10: rclone missing, unusable, or too old. `sync` must stop before doing anything (exit 2, a message
// that says what is wrong and how to fix it, no rclone.conf, no state, no remote change). Features that only a
// newer rclone has (bisync conflictResolve and trash need 1.66) degrade with a clear message instead of failing:
// that is the product contract (PRODUCT.md §2), proven here on the real rclone 1.60.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { fingerprint } from "../support/tree.js";
import { makeWorld, type World } from "../support/world.js";
import { expectCleanError, script, sleep } from "./lib/sync-kit.js";

const RCLONE_DIR = "/usr/bin"; // where the real rclone lives; a PATH without it has no rclone

async function snapshot(w: World, server: TestServer): Promise<Record<string, string>> {
  return { ...(await fingerprint(w.root)), ...Object.fromEntries(Object.entries(await fingerprint(server.rootDir)).map(([k, v]) => [`remote/${k}`, v])) };
}

describe("rclone missing or too old", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("local");
  });
  afterAll(async () => {
    await stopAll();
  });

  async function world(sync: Record<string, unknown>, root: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<World> {
    const w = await makeWorld(undefined, env);
    await w.writeConfig({ ...root, sync: { ...server.configBlock, remotePath: `rc-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, ...sync } });
    await writeFile(path.join(w.workspace, "notes.md"), "notes\n");
    return w;
  }

  /** Runs the command, expects exit 2 with `message`, and nothing changed anywhere. */
  async function expectRefused(w: World, args: string[], message: RegExp): Promise<void> {
    const before = await snapshot(w, server);
    const res = await w.cli(...args);
    expect(res.code, res.stderr).toBe(2);
    expectCleanError(res.stderr);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe("");
    expect(await snapshot(w, server)).toEqual(before);
  }

  const noRclonePath = async (w: World) => {
    const bin = path.join(w.root, "empty-bin");
    await mkdir(bin, { recursive: true });
    return bin;
  };

  it.each([
    ["mailbox", ["sync"]],
    ["mirror", ["sync"]],
    ["bisync", ["sync", "--resync", "--yes"]],
  ])("no rclone on PATH (%s): exit 2 with the install hint, nothing done", async (mode, args) => {
    const w = await world({ mode });
    try {
      w.env.PATH = await noRclonePath(w);
      await expectRefused(w, args, /rclone was not found on PATH; install it with .*apt-get install -y rclone/);
      // status says the same, without failing, and writes nothing either.
      const before = await snapshot(w, server);
      const status = JSON.parse((await w.cli("status", "--json")).stdout) as { rclone: { found: boolean; error: string } };
      expect(status.rclone).toMatchObject({ found: false });
      expect(status.rclone.error).toMatch(/not found on PATH/);
      expect(await snapshot(w, server)).toEqual(before);
    } finally {
      await w.cleanup();
    }
  });

  it("rclonePath points at nothing: exit 2 naming rclonePath", async () => {
    const w = await world({ mode: "mailbox" }, { rclonePath: "/nonexistent/bin/rclone" });
    try {
      await expectRefused(w, ["sync"], /rclonePath "\/nonexistent\/bin\/rclone" does not exist; fix rclonePath/);
    } finally {
      await w.cleanup();
    }
  });

  it("rclonePath points at a file that is not executable: exit 2", async () => {
    const w = await makeWorld();
    try {
      const file = path.join(w.root, "rclone-not-exec");
      await writeFile(file, "not a program\n");
      await chmod(file, 0o644);
      await w.writeConfig({ rclonePath: file, sync: { ...server.configBlock, mode: "mirror", remotePath: "rc-noexec" } });
      await expectRefused(w, ["sync"], /rclonePath ".*rclone-not-exec" is not an executable file/);
    } finally {
      await w.cleanup();
    }
  });

  it.each(["rclonePath", "PATH"])("rclone 1.50 (via %s) is too old: exit 2 saying which version is needed", async (via) => {
    const w = await makeWorld();
    try {
      // A fake that only knows how to say its version: if the product ran anything else, the run would fail loudly.
      const fake = await script(path.join(w.root, "old-bin", "rclone"), 'if [ "$1" = version ]; then echo "rclone v1.50.0"; echo "- os/arch: linux/amd64"; exit 0; fi\necho "unexpected call: $*" >&2; exit 99');
      if (via === "PATH") w.env.PATH = path.dirname(fake);
      await w.writeConfig({ ...(via === "rclonePath" ? { rclonePath: fake } : {}), sync: { ...server.configBlock, mode: "mailbox", remotePath: "rc-old" } });
      await expectRefused(w, ["sync"], /rclone 1\.50\.0, which is too old: openclaw-workspace-sync needs rclone >= 1\.60/);
    } finally {
      await w.cleanup();
    }
  });

  it("something that is not rclone (prints no version): exit 2, not a crash", async () => {
    const w = await makeWorld();
    try {
      const fake = await script(path.join(w.root, "bin", "rclone"), 'echo "Hello from some other tool"');
      await w.writeConfig({ rclonePath: fake, sync: { ...server.configBlock, mode: "mirror", remotePath: "rc-other" } });
      await expectRefused(w, ["sync"], /does not look like rclone: `rclone version` printed "Hello from some other tool"/);
    } finally {
      await w.cleanup();
    }
  });

  it("an rclone that fails to start (broken install): exit 2", async () => {
    const w = await makeWorld();
    try {
      const fake = await script(path.join(w.root, "bin", "rclone"), "echo 'error while loading shared libraries: libfuse.so.2' >&2; exit 127");
      w.env.PATH = path.dirname(fake);
      await w.writeConfig({ sync: { ...server.configBlock, mode: "bisync", remotePath: "rc-broken" } });
      await expectRefused(w, ["sync", "--resync", "--yes"], /rclone at .* could not run .*install it with/);
    } finally {
      await w.cleanup();
    }
  });

  it("rclone 1.60 and bisync options that need 1.66 (conflictResolve, trash): a clear message, both versions kept, listed in status", async () => {
    const w = await world({ mode: "bisync", conflictResolve: "remote", trashDays: 7 }, {}, { PATH: `${RCLONE_DIR}:${process.env.PATH ?? ""}` });
    try {
      for (const name of ["a.txt", "b.txt", "c.txt"]) await writeFile(path.join(w.workspace, name), `${name}\n`);
      const base = await w.cli("sync", "--resync", "--yes");
      expect(base.code, base.stderr).toBe(0);
      expect(base.stderr).toMatch(/cannot resolve bisync conflicts \(conflictResolve "remote" needs rclone >= 1\.66\)/);
      expect(base.stderr).toMatch(/trashDays needs rclone >= 1\.66/);
      // A real conflict: both sides change the same file.
      const cfg = JSON.parse(await readFile(w.configFile, "utf8")) as {
        plugins: { entries: Record<string, { config: { sync: { remotePath: string } } }> };
      };
      const folder = cfg.plugins.entries["openclaw-workspace-sync"]!.config.sync.remotePath;
      await sleep(1100);
      await writeFile(path.join(w.workspace, "notes.md"), "edited in the workspace\n");
      await writeFile(path.join(server.rootDir, folder, "notes.md"), "edited on the remote, longer\n");
      const run = await w.cli("sync");
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/conflicts \(both versions kept\)/);
      const status = JSON.parse((await w.cli("status", "--json")).stdout) as { sync: { conflicts: string[] } };
      expect(status.sync.conflicts.length).toBeGreaterThan(0);
    } finally {
      await w.cleanup();
    }
  });
});
