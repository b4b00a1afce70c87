// The location rules through the real CLI on real folders (issue 16 items 1–3, issue 14's missing targets): a backup
// folder inside the sync folder keeps its snapshots however it is reached (its own local block, an rclone alias, a
// user's rclone.conf section); a sync folder that contains or sits inside the workspace, and a backup folder inside the
// workspace, are refused before anything runs; OpenClaw's state inside the workspace never travels; unknown agents,
// missing workspaces, system folders and targets on a missing parent are refused.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readTree } from "../helpers/servers.js";
import type { CliResult } from "../support/cli.js";
import { makeWorld, type World } from "../support/world.js";

const worlds: World[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A folder outside the world (for targets when the workspace is the world's root). */
async function outside(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), "wsync-outside-"));
  dirs.push(d);
  return d;
}

async function world(config?: (w: World) => unknown, env: NodeJS.ProcessEnv = {}): Promise<World> {
  const w = await makeWorld(undefined, env);
  worlds.push(w);
  if (config) await w.writeConfig(config(w));
  return w;
}

function ok(res: CliResult): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

/** Exit 2, one clean message (no stack), naming every given fragment. */
function refused(res: CliResult, ...fragments: (string | RegExp)[]): void {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(2);
  expect(res.stderr).toMatch(/^workspace-sync: /m);
  expect(res.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  for (const f of fragments) expect(res.stderr).toMatch(typeof f === "string" ? new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : f);
}

const names = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();
const exists = (p: string) => stat(p).then(
  () => true,
  () => false,
);
const PLAIN_BACKUP = { encrypt: false, include: ["workspace"], compression: "none" };

describe("a backup folder inside the sync folder keeps its snapshots", () => {
  it("the issue's repro: sync local F (mailbox, remotePath \"\") and a backup with its own local block at the same F", async () => {
    const w = await world((w) => ({
      sync: { provider: "local", mode: "mailbox", remotePath: "", fullSyncInterval: 0, local: { path: path.join(w.root, "F") } },
      backup: { provider: "local", local: { path: path.join(w.root, "F") }, ...PLAIN_BACKUP },
    }));
    const F = path.join(w.root, "F");
    await mkdir(F);
    await writeFile(path.join(w.workspace, "a.md"), "a\n");
    await writeFile(path.join(w.workspace, "b.md"), "b\n");
    ok(await w.cli("sync"));
    ok(await w.cli("backup", "now"));
    const snapshots = (await names(F)).filter((n) => n.startsWith("backup-"));
    expect(snapshots).toHaveLength(2); // data object + manifest
    // The next full push (every cycle with fullSyncInterval 0, and an explicit --direction push) deletes nothing.
    for (const args of [["sync"], ["sync", "--direction", "push"], ["sync", "--dry-run"]]) {
      const out = ok(await w.cli(...args));
      expect(out, args.join(" ")).toMatch(/delete 0 file/);
    }
    expect((await names(F)).filter((n) => n.startsWith("backup-"))).toEqual(snapshots);
    expect(await exists(path.join(F, ".workspace-sync-trash"))).toBe(false);
    expect(ok(await w.cli("backup", "list"))).toContain(snapshots[0]!.replace(/\.manifest\.json$/, ""));
  });

  it("reached through a symlink: the backup folder is a link elsewhere that points into the sync folder", async () => {
    const w = await world((w) => ({
      sync: { provider: "local", mode: "mirror", remotePath: "", local: { path: path.join(w.root, "F") } },
      backup: { provider: "local", local: { path: path.join(w.root, "elsewhere", "bk-link") }, ...PLAIN_BACKUP },
    }));
    const F = path.join(w.root, "F");
    await mkdir(path.join(F, "bk"), { recursive: true });
    await mkdir(path.join(w.root, "elsewhere"));
    await symlink(path.join(F, "bk"), path.join(w.root, "elsewhere", "bk-link"));
    await writeFile(path.join(w.workspace, "a.md"), "a\n");
    ok(await w.cli("backup", "now"));
    const snapshots = await names(path.join(F, "bk"));
    expect(snapshots).toHaveLength(2); // data object + manifest, written through the link
    for (const args of [["sync"], ["sync", "--direction", "push"]]) expect(ok(await w.cli(...args)), args.join(" ")).toMatch(/delete 0 file/);
    expect(await names(path.join(F, "bk"))).toEqual(snapshots);
    expect(await exists(path.join(F, ".workspace-sync-trash"))).toBe(false);
  });

  it("reached through an rclone alias to a folder below the sync folder, and through the user's own rclone.conf section", async () => {
    const w = await world();
    const F = path.join(w.root, "F");
    await mkdir(F);
    // The sync reads the user's rclone.conf section "mine" (an alias of F); the backup is an alias to F/bk.
    const userConf = path.join(w.root, "user-rclone.conf");
    await writeFile(userConf, `[mine]\ntype = alias\nremote = ${F}\n`);
    await w.writeConfig({
      sync: { provider: "dropbox", configPath: userConf, remoteName: "mine", mode: "mirror", remotePath: "", fullSyncInterval: 0 },
      backup: { provider: "custom", custom: { rcloneType: "alias", rcloneOptions: { remote: path.join(F, "bk") } }, ...PLAIN_BACKUP },
    });
    await writeFile(path.join(w.workspace, "notes.md"), "n\n");
    ok(await w.cli("sync"));
    ok(await w.cli("backup", "now"));
    const kept = await names(path.join(F, "bk"));
    expect(kept).toHaveLength(2);
    expect(ok(await w.cli("sync", "--direction", "push"))).toMatch(/delete 0 file/);
    expect(await names(path.join(F, "bk"))).toEqual(kept);
    expect(await names(F)).toEqual(["bk", "notes.md"]);
  });

  it("bisync never brings the snapshots into the workspace", async () => {
    const w = await world((w) => ({
      sync: { provider: "local", mode: "bisync", remotePath: "", local: { path: path.join(w.root, "F") } },
      backup: { provider: "local", local: { path: path.join(w.root, "F") }, ...PLAIN_BACKUP },
    }));
    await mkdir(path.join(w.root, "F"));
    await writeFile(path.join(w.workspace, "a.md"), "a\n");
    ok(await w.cli("backup", "now"));
    ok(await w.cli("sync", "--resync", "--yes"));
    ok(await w.cli("sync"));
    expect((await names(w.workspace)).filter((n) => n.startsWith("backup-"))).toEqual([]);
    expect((await names(path.join(w.root, "F"))).filter((n) => n.startsWith("backup-"))).toHaveLength(2);
  });

  it("refused when the sync folder is encrypted (names cannot be told apart) or the backup sits in the outbox", async () => {
    const w = await world((w) => ({
      sync: { provider: "local", mode: "mailbox", remotePath: "", local: { path: path.join(w.root, "F") }, crypt: { password: "pw" } },
      backup: { provider: "local", local: { path: path.join(w.root, "F", "bk") }, ...PLAIN_BACKUP },
    }));
    refused(await w.cli("sync"), "the backup folder", "encrypts", "backup.local.path");
    refused(await w.cli("backup", "now"), "encrypts");
    await w.writeConfig({
      sync: { provider: "local", mode: "mailbox", remotePath: "", local: { path: path.join(w.root, "F") } },
      backup: { provider: "local", local: { path: path.join(w.root, "F", "_outbox", "bk") }, ...PLAIN_BACKUP },
    });
    refused(await w.cli("sync"), "_outbox/ folder");
    expect(await exists(path.join(w.root, "F"))).toBe(false);
  });
});

describe("sync and backup folders that would eat the workspace are refused before anything runs", () => {
  it("a mirror target that contains the workspace (local.path P, remotePath \"\", workspace P/ws)", async () => {
    const w = await world();
    const P = path.join(w.root, "P");
    const ws = path.join(P, "ws");
    await mkdir(ws, { recursive: true });
    await mkdir(path.join(P, "unrelated"));
    await writeFile(path.join(P, "unrelated", "keep.txt"), "keep\n");
    await writeFile(path.join(ws, "a.md"), "a\n");
    await w.writeConfig({ sync: { provider: "local", mode: "mirror", remotePath: "", local: { path: P } } });
    const before = await readTree(P);
    for (const args of [["sync"], ["sync", "--dry-run"], ["sync", "--direction", "push"], ["sync", "--max-delete", "100%"]]) {
      refused(await w.cli("--workspace", ws, ...args), `the sync folder ${P}`, `contains the workspace ${ws}`, "sync.local.path or sync.remotePath", /raising maxDelete would not help/);
    }
    expect(await readTree(P)).toEqual(before);
    expect(await exists(path.join(w.stateDir, "workspace-sync", "rclone.conf"))).toBe(false);
  });

  it("a target inside the workspace (a nested copy every cycle), in the flat format too", async () => {
    const w = await world();
    const inside = path.join(w.workspace, "cloud");
    await w.writeConfig({ provider: "local", mode: "mirror", remotePath: "share", local: { path: inside } });
    refused(await w.cli("sync"), `the sync folder ${path.join(inside, "share")}`, `is inside the workspace ${w.workspace}`, "local.path or remotePath");
    expect(await exists(inside)).toBe(false);
  });

  it("a backup folder inside the workspace: backup now and sync refuse, nothing is written", async () => {
    const w = await world((w) => ({
      sync: { provider: "local", mode: "mailbox", local: { path: path.join(w.root, "nas") } },
      backup: { provider: "local", local: { path: path.join(w.workspace, "backups") }, ...PLAIN_BACKUP },
    }));
    await writeFile(path.join(w.workspace, "a.md"), "a\n");
    refused(await w.cli("backup", "now"), `the backup folder ${path.join(w.workspace, "backups")}`, `inside the workspace ${w.workspace}`, "backup.local.path or backup.prefix");
    refused(await w.cli("sync"), "inside the workspace");
    expect(await exists(path.join(w.workspace, "backups"))).toBe(false);
    expect(await exists(path.join(w.root, "nas"))).toBe(false);
  });
});

describe("OpenClaw's state inside the workspace never travels", () => {
  async function seedState(stateDir: string): Promise<void> {
    for (const [rel, body] of Object.entries({
      "credentials/whatsapp/creds.json": "{\"secret\":1}",
      "agents/main/agent/auth-profiles.json": "{\"key\":\"sk-x\"}",
      ".env": "TOKEN=x\n",
      "state/openclaw.sqlite": "not really sqlite",
    })) {
      await mkdir(path.dirname(path.join(stateDir, rel)), { recursive: true });
      await writeFile(path.join(stateDir, rel), body);
    }
  }

  it("workspace above the state dir: the push leaves the whole state dir out; the workspace == state dir: its secrets stay out", async () => {
    const w = await world();
    const nas = path.join(await outside(), "nas");
    await seedState(w.stateDir);
    // The workspace is the world root, which holds the state dir.
    await w.writeConfig({ sync: { provider: "local", mode: "mirror", remotePath: "", local: { path: nas } } });
    await writeFile(path.join(w.root, "notes.md"), "n\n");
    ok(await w.cli("--workspace", w.root, "sync"));
    expect(Object.keys(await readTree(nas)).sort()).toEqual(["notes.md"]);

    // The workspace is the state dir itself.
    const nas2 = path.join(await outside(), "nas2");
    await w.writeConfig({ sync: { provider: "local", mode: "mirror", remotePath: "", local: { path: nas2 }, exclude: [] } });
    await writeFile(path.join(w.stateDir, "skills-note.md"), "s\n");
    ok(await w.cli("--workspace", w.stateDir, "sync"));
    const pushed = Object.keys(await readTree(nas2)).sort();
    expect(pushed).toContain("skills-note.md");
    expect(pushed.filter((p) => /^(credentials|agents\/main\/agent|state|workspace-sync)\/|^openclaw\.json|^\.env/.test(p))).toEqual([]);
  });

  it("backup: workspace == state dir with include [\"workspace\"] unencrypted is refused (exit 2), nothing uploaded", async () => {
    const w = await world();
    const repo = path.join(w.root, "repo");
    await mkdir(repo);
    await seedState(w.stateDir);
    await w.writeConfig({ backup: { provider: "local", local: { path: repo }, encrypt: false, include: ["workspace"] } });
    refused(await w.cli("--workspace", w.stateDir, "backup", "now"), `the workspace ${w.stateDir} is the OpenClaw state dir itself`, '"encrypt": true');
    expect(await names(repo)).toEqual([]);
  });

  it("backup: workspace above the state dir, include [\"workspace\"] unencrypted: the archive holds the workspace and nothing of the state dir", async () => {
    const w = await world();
    const repo = await outside();
    await seedState(w.stateDir);
    await writeFile(path.join(w.stateDir, "openclaw.json5.bak"), "{}\n");
    await writeFile(path.join(w.root, "notes.md"), "n\n");
    await w.writeConfig({ backup: { provider: "local", local: { path: repo }, encrypt: false, include: ["workspace"], compression: "none" } });
    ok(await w.cli("--workspace", w.root, "backup", "now"));
    // What is archived, read with the standard tool: the workspace's own file, no state (credentials, agents,
    // openclaw.json, the product's rclone.conf and state files).
    const data = (await names(repo)).find((n) => n.endsWith(".tar"))!;
    const listed = execFileSync("tar", ["-tf", path.join(repo, data)], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(listed.filter((p) => !p.endsWith("/"))).toEqual(["workspace/notes.md"]);
  });

  it("backup: the workspace item skips a nested state dir; the state's own items still hold it", async () => {
    const w = await world();
    const repo = await outside();
    await seedState(w.stateDir);
    await writeFile(path.join(w.root, "notes.md"), "n\n");
    await w.writeConfig({ backup: { provider: "local", local: { path: repo }, encrypt: false, include: ["workspace", "credentials"], allowPlaintextSecrets: true, compression: "none" } });
    ok(await w.cli("--workspace", w.root, "backup", "now"));
    const manifest = JSON.parse(await readFile(path.join(repo, (await names(repo)).find((n) => n.endsWith(".manifest.json"))!), "utf8")) as { items: { item: string; archivePath: string }[] };
    expect(manifest.items.map((i) => i.item).sort()).toEqual(["credentials", "workspace"]);
    const restored = path.join(await outside(), "restored");
    ok(await w.cli("--workspace", w.root, "backup", "restore", "--to", restored));
    const tree = Object.keys(await readTree(restored));
    // Each file once: the credentials under the credentials item, nothing of the state dir under the workspace item's own walk but them.
    expect(tree.filter((p) => p.endsWith("creds.json"))).toHaveLength(1);
    expect(tree.filter((p) => p.endsWith("auth-profiles.json"))).toEqual([]);
  });
});

describe("missing places are refused, never created or treated as empty", () => {
  it("--agent for an agent that does not exist; a configured workspace that does not exist", async () => {
    const w = await world((w) => ({ sync: { provider: "local", mode: "mirror", local: { path: path.join(w.root, "nas") } } }));
    const cfg = JSON.parse(await readFile(w.configFile, "utf8"));
    await writeFile(w.configFile, JSON.stringify({ ...cfg, agents: { list: [{ id: "main" }, { id: "ops" }] } }));
    refused(await w.cli("--agent", "ghost", "sync"), "--agent ghost: there is no such agent", "main, ops");
    expect(await exists(path.join(w.stateDir, "workspace-ghost"))).toBe(false);
    refused(await w.cli("--workspace", path.join(w.root, "gone"), "sync"), `the workspace ${path.join(w.root, "gone")} (from --workspace) does not exist`);
    refused(await w.cli("--agent", "ops", "sync"), "workspace-ops", "does not exist");
    expect(await exists(path.join(w.root, "nas"))).toBe(false);
    // An agent with a workspace folder is fine even when not listed.
    await mkdir(path.join(w.stateDir, "workspace-lab"));
    ok(await w.cli("--agent", "lab", "sync"));
  });

  it("a local target (sync or backup, or an alias) whose parent does not exist; its last folder alone is created", async () => {
    const w = await world();
    const gone = path.join(w.root, "unmounted", "nas");
    await writeFile(path.join(w.workspace, "a.md"), "a\n");
    await w.writeConfig({ sync: { provider: "local", mode: "mirror", local: { path: gone } } });
    refused(await w.cli("sync"), `the sync folder ${gone} (sync.local.path) does not exist, and neither does ${path.dirname(gone)}`, "disk not mounted");
    await w.writeConfig({ backup: { provider: "local", local: { path: gone }, ...PLAIN_BACKUP } });
    refused(await w.cli("backup", "now"), `the backup folder ${gone} (backup.local.path)`);
    await w.writeConfig({ backup: { provider: "custom", custom: { rcloneType: "alias", rcloneOptions: { remote: gone } }, ...PLAIN_BACKUP } });
    refused(await w.cli("backup", "now"), "backup.custom.rcloneOptions.remote");
    expect(await exists(path.dirname(gone))).toBe(false);
    // The parent exists: the target folder is created by the run.
    await mkdir(path.dirname(gone));
    await w.writeConfig({ sync: { provider: "local", mode: "mirror", local: { path: gone } } });
    ok(await w.cli("sync"));
    expect(await readFile(path.join(gone, "openclaw-share", "a.md"), "utf8")).toBe("a\n");
  });

  it("the root, system folders and the home folder itself are refused at validation", async () => {
    const w = await world();
    for (const [p, why] of [
      ["/", /root folder/],
      ["/etc", /system folder/],
      ["/usr/lib/x", /operating system's own files/],
      ["~", /home folder itself/],
    ] as const) {
      await w.writeConfig({ sync: { provider: "local", mode: "mirror", local: { path: p } } });
      const res = await w.cli("sync");
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toMatch(/sync\.local\.path/);
      expect(res.stderr).toMatch(why);
    }
  });
});
