// The standalone command surface: help, list, location flags, status redaction, usage errors.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend, type StartedBackend } from "../support/backends.js";
import { runCli, testEnv } from "../support/cli.js";
import { writeTree } from "../support/tree.js";
import { makeWorld } from "../support/world.js";

describe("CLI surface", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => server?.stop());

  it("--help lists the commands; unknown options are usage errors (exit 2)", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const cmd of ["status", "sync", "list"]) expect(help.stdout).toContain(cmd);
    expect((await runCli(["sync", "--direction", "sideways"])).code).toBe(2);
    expect((await runCli(["sync", "--no-such-flag"])).code).toBe(2);
  });

  it("list shows the remote folder (text and JSON), refuses paths leaving it", async () => {
    const w = await makeWorld({ sync: { ...server.block, mode: "mailbox", remotePath: "listing" } });
    try {
      await writeTree(w.workspace, { "a.txt": "aaa", "sub/b.txt": "b" });
      expect((await w.cli("sync")).code).toBe(0);
      const json = JSON.parse((await w.cli("list", "-R", "--json")).stdout) as { path: string; size: number | null; isDir: boolean }[];
      expect(json.filter((e) => !e.isDir).map((e) => [e.path, e.size])).toEqual([["a.txt", 3], ["sub/b.txt", 1]]);
      const text = await w.cli("list", "sub");
      expect(text.code).toBe(0);
      expect(text.stdout).toContain("b.txt");
      const escape = await w.cli("list", "../../etc");
      expect(escape.code).toBe(2);
    } finally {
      await w.cleanup();
    }
  });

  it("--config, --state-dir and --workspace point the CLI anywhere; status --json redacts secrets", async () => {
    const w = await makeWorld();
    try {
      const cfgFile = path.join(w.root, "elsewhere", "my-openclaw.json");
      const stateDir = path.join(w.root, "other-state");
      const workspace = path.join(w.root, "other-ws");
      await mkdir(path.dirname(cfgFile), { recursive: true });
      await mkdir(workspace, { recursive: true });
      await writeTree(workspace, { "x.txt": "x" });
      const config = {
        plugins: {
          entries: {
            "openclaw-workspace-sync": {
              config: { sync: { ...server.block, mode: "mirror", remotePath: "flags", crypt: { password: "${CRYPT_PW}" } } },
            },
          },
        },
      };
      await writeFile(cfgFile, JSON.stringify(config));
      const env = testEnv({ HOME: w.root, CRYPT_PW: "very-secret-crypt-password" });
      const args = ["--config", cfgFile, "--state-dir", stateDir, "--workspace", workspace];
      const sync = await runCli([...args, "sync"], { env });
      expect(sync.code, sync.stderr).toBe(0);
      const status = await runCli([...args, "status", "--json"], { env });
      expect(status.code).toBe(0);
      const parsed = JSON.parse(status.stdout) as { stateDir: string; workspaceDir: string; configFile: string };
      expect(parsed.stateDir).toBe(stateDir);
      expect(parsed.workspaceDir).toBe(workspace);
      expect(parsed.configFile).toBe(cfgFile);
      expect(status.stdout + status.stderr + sync.stdout + sync.stderr).not.toContain("very-secret-crypt-password");
    } finally {
      await w.cleanup();
    }
  });
});
