// End-to-end: every sync mode through the real CLI and the real rclone, on every loopback backend.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, type Backend, type StartedBackend } from "../support/backends.js";
import { fingerprint, readTreeContents, writeTree } from "../support/tree.js";
import { remoteDelete, remotePut, remoteTree } from "../support/remote-view.js";
import { makeWorld, type World } from "../support/world.js";

function ok(res: { code: number | null; stderr: string }): void {
  expect(res.code, res.stderr).toBe(0);
}

const SAMPLE = {
  "notes.md": "# notes\n",
  "project/plan.txt": "plan v1\n",
  "project/data.csv": "a,b\n1,2\n",
  ".git/HEAD": "ref: refs/heads/main\n",
  "node_modules/x/index.js": "module.exports = 1\n",
};

describe.each(backends)("sync modes on $name", (backend: Backend) => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function world(mode: string, folder: string, extra: Record<string, unknown> = {}): Promise<World> {
    const w = await makeWorld({ sync: { ...server.block, mode, remotePath: folder, ...extra } });
    await w.cli("status"); // writes the product's rclone.conf so the test can reach the remote directly
    return w;
  }
  const remote = (folder: string, sub = "") => `cloud:${server.pathPrefix}${folder}${sub ? `/${sub}` : ""}`;

  it("mailbox: pushes with excludes, drains the outbox without overwriting, keeps sub-folders", async () => {
    const folder = `mbx-${Date.now()}`;
    const w = await world("mailbox", folder);
    try {
      await writeTree(w.workspace, SAMPLE);
      const first = await w.cli("sync");
      expect(first.stderr + first.stdout).not.toMatch(/error/i);
      expect(first.code).toBe(0);
      const pushed = await remoteTree(w.stateDir, remote(folder));
      expect(Object.keys(pushed).sort()).toEqual(["notes.md", "project/data.csv", "project/plan.txt"]);

      // A file of the same name already waits in _inbox; a new one arrives with a sub-folder beside it.
      await writeTree(w.workspace, { "_inbox/report.txt": "kept: the agent's copy\n" });
      await remotePut(w.stateDir, remote(folder, "_outbox/report.txt"), "new arrival\n");
      await remotePut(w.stateDir, remote(folder, "_outbox/deep/nested.txt"), "nested\n");
      const second = await w.cli("sync");
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/received 2 file/);
      const inbox = await readTreeContents(path.join(w.workspace, "_inbox"));
      expect(inbox).toEqual({
        "report.txt": "kept: the agent's copy\n",
        "report (1).txt": "new arrival\n",
        "deep/nested.txt": "nested\n",
      });
      expect(await remoteTree(w.stateDir, remote(folder, "_outbox"))).toEqual({});
      // Nothing from _inbox or the product folder travels up.
      const after = await remoteTree(w.stateDir, remote(folder));
      expect(Object.keys(after).filter((p) => p.startsWith("_inbox") || p.startsWith(".workspace-sync/"))).toEqual([]);
    } finally {
      await w.cleanup();
    }
  });

  it("mailbox: deleted and overwritten remote files land in the trash; an emptied workspace does not empty the remote", async () => {
    const folder = `trash-${Date.now()}`;
    const w = await world("mailbox", folder);
    try {
      await writeTree(w.workspace, { "a.txt": "a1\n", "b.txt": "b1\n", "c.txt": "c1\n", "d.txt": "d1\n" });
      ok(await w.cli("sync"));
      await writeTree(w.workspace, { "a.txt": "a2 changed\n" });
      await rm(path.join(w.workspace, "b.txt"));
      ok(await w.cli("sync"));
      const tree = await remoteTree(w.stateDir, remote(folder));
      expect(tree["a.txt"]).toBe("a2 changed\n");
      expect(tree["b.txt"]).toBeUndefined();
      const trashed = Object.entries(tree).filter(([p]) => p.startsWith(".workspace-sync-trash/"));
      expect(trashed.map(([p, c]) => [p.split("/").slice(2).join("/"), c]).sort()).toEqual([
        ["a.txt", "a1\n"],
        ["b.txt", "b1\n"],
      ]);

      // Redeploy wiped the workspace: the cycle must stop before deleting anything.
      for (const name of await readdir(w.workspace)) if (name !== "_inbox") await rm(path.join(w.workspace, name), { recursive: true, force: true });
      const wiped = await w.cli("sync");
      expect(wiped.code).toBe(1);
      expect(wiped.stderr).toMatch(/stopped before deleting anything/);
      expect(wiped.stderr).toMatch(/maxDelete/);
      const kept = await remoteTree(w.stateDir, remote(folder));
      expect(kept["c.txt"]).toBe("c1\n");
      expect(kept["d.txt"]).toBe("d1\n");
      const status = JSON.parse((await w.cli("status", "--json")).stdout) as { sync: { lastRun: { ok: boolean; error: string } } };
      expect(status.sync.lastRun.ok).toBe(false);
      expect(status.sync.lastRun.error).toMatch(/maxDelete/);
    } finally {
      await w.cleanup();
    }
  });

  it("mirror: the workspace is byte-identical before and after, whatever the remote holds; ingest is additive with a ledger", async () => {
    const folder = `mir-${Date.now()}`;
    const w = await world("mirror", folder, { ingest: true, ingestPath: "inbox" });
    try {
      await writeTree(w.workspace, SAMPLE);
      await remotePut(w.stateDir, remote(folder, "stray.txt"), "remote-only\n");
      await remotePut(w.stateDir, remote(folder, "notes.md"), "remote version that must not come back\n");
      const before = await fingerprint(w.workspace);
      ok(await w.cli("sync"));
      expect(await fingerprint(w.workspace)).toEqual(before);
      const pushed = await remoteTree(w.stateDir, remote(folder));
      expect(pushed["notes.md"]).toBe("# notes\n");
      expect(pushed["stray.txt"]).toBeUndefined();

      await remotePut(w.stateDir, remote(folder, "inbox/drop.txt"), "dropped by the user\n");
      ok(await w.cli("sync"));
      expect(await readTreeContents(path.join(w.workspace, "inbox"))).toEqual({ "drop.txt": "dropped by the user\n" });
      // The agent consumes the file; it does not come back.
      await rm(path.join(w.workspace, "inbox", "drop.txt"));
      ok(await w.cli("sync"));
      expect(await readTreeContents(path.join(w.workspace, "inbox"))).toEqual({});
      // The user drops the push folder's file? The remote ingest folder keeps its files (nothing deleted there).
      expect((await remoteTree(w.stateDir, remote(folder, "inbox")))["drop.txt"]).toBe("dropped by the user\n");
      // A changed drop is taken in again.
      await remotePut(w.stateDir, remote(folder, "inbox/drop.txt"), "dropped again, changed content\n");
      ok(await w.cli("sync"));
      expect(await readTreeContents(path.join(w.workspace, "inbox"))).toEqual({ "drop.txt": "dropped again, changed content\n" });
    } finally {
      await w.cleanup();
    }
  });

  it("bisync: needs an explicit, confirmed resync; then changes flow both ways and a conflict keeps both versions", async () => {
    const folder = `bi-${Date.now()}`;
    const w = await world("bisync", folder);
    try {
      if (backend.name === "webdav") {
        // rclone 1.60's bisync needs modification times, which `rclone serve webdav` does not keep:
        // the product must say so clearly instead of failing obscurely.
        await writeTree(w.workspace, { "a.txt": "a\n" });
        const res = await w.cli("sync", "--resync", "--yes");
        expect(res.code).toBe(1);
        expect(res.stderr).toMatch(/does not keep modification times/);
        return;
      }
      await writeTree(w.workspace, { "shared.txt": "v1\n", "local-only.txt": "L\n" });
      await remotePut(w.stateDir, remote(folder, "remote-only.txt"), "R\n");
      const noBaseline = await w.cli("sync");
      expect(noBaseline.code).toBe(1);
      expect(noBaseline.stderr).toMatch(/--resync/);
      const unconfirmed = await w.cli("sync", "--resync");
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toMatch(/--yes/);
      const resync = await w.cli("sync", "--resync", "--yes");
      expect(resync.code, resync.stderr).toBe(0);
      expect(await readTreeContents(w.workspace, [".workspace-sync"])).toEqual({ "shared.txt": "v1\n", "local-only.txt": "L\n", "remote-only.txt": "R\n" });

      await writeTree(w.workspace, { "from-local.txt": "new local\n" });
      await remotePut(w.stateDir, remote(folder, "from-remote.txt"), "new remote\n");
      const cycle = await w.cli("sync");
      expect(cycle.code, cycle.stderr).toBe(0);
      expect((await readTreeContents(w.workspace))["from-remote.txt"]).toBe("new remote\n");
      expect((await remoteTree(w.stateDir, remote(folder)))["from-local.txt"]).toBe("new local\n");

      // Both sides change the same file.
      await new Promise((r) => setTimeout(r, 1100));
      await writeTree(w.workspace, { "shared.txt": "local edit\n" });
      await remotePut(w.stateDir, remote(folder, "shared.txt"), "remote edit, longer\n");
      const conflict = await w.cli("sync");
      expect(conflict.code, conflict.stderr).toBe(0);
      const local = Object.values(await readTreeContents(w.workspace, [".workspace-sync"]));
      expect(local).toContain("local edit\n");
      expect(local).toContain("remote edit, longer\n");
      const status = JSON.parse((await w.cli("status", "--json")).stdout) as { sync: { conflicts: string[] } };
      expect(status.sync.conflicts.length).toBeGreaterThan(0);
    } finally {
      await w.cleanup();
    }
  });
});

describe("rails", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backends[0]!.start();
  });
  afterAll(async () => server?.stop());

  it("two syncs started together: one runs at a time, the other waits or exits 3, nothing corrupted", async () => {
    const w = await makeWorld({ sync: { ...server.block, mode: "mailbox", remotePath: "race" } });
    try {
      const files: Record<string, string> = {};
      for (let i = 0; i < 60; i++) files[`f${i}.txt`] = `content ${i}\n`.repeat(50);
      await writeTree(w.workspace, files);
      const [a, b] = await Promise.all([w.cli("sync"), w.cli("sync")]);
      const codes = [a.code, b.code].sort();
      expect(codes[0]).toBe(0);
      expect([0, 3]).toContain(codes[1]);
      if (codes[1] === 3) expect([a, b].find((r) => r.code === 3)!.stderr).toMatch(/another run is in progress/);
      const tree = await remoteTree(w.stateDir, `cloud:${server.pathPrefix}race`);
      expect(Object.keys(tree).filter((p) => !p.startsWith(".")).length).toBe(60);
      for (const [p, c] of Object.entries(files)) expect(tree[p]).toBe(c);
    } finally {
      await w.cleanup();
    }
  });

  it("an unset ${VAR} in a used value: exit 2 naming the key and variable, nothing runs", async () => {
    const w = await makeWorld({ sync: { provider: "local", mode: "mailbox", local: { path: "${NAS_MOUNT_FOR_TEST}" } } });
    try {
      await writeFile(path.join(w.workspace, "x.txt"), "x");
      const res = await w.cli("sync");
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/sync\.local\.path/);
      expect(res.stderr).toMatch(/NAS_MOUNT_FOR_TEST/);
      await expect(readdir(path.join(w.stateDir, "workspace-sync"))).rejects.toThrow();
    } finally {
      await w.cleanup();
    }
  });

  it("an invalid config lists every problem at once with exit 2", async () => {
    const w = await makeWorld({ sync: { provider: "local", local: { path: "/tmp/x" }, localPath: "../escape", interval: 30, intervall: 5 } });
    try {
      const res = await w.cli("sync");
      expect(res.code).toBe(2);
      for (const key of ["sync.mode", "sync.localPath", "sync.interval", "sync.intervall"]) expect(res.stderr).toContain(key);
    } finally {
      await w.cleanup();
    }
  });

  it("pull needs confirmation; with --yes it brings the remote into the workspace keeping replaced files in the local trash", async () => {
    const w = await makeWorld({ sync: { ...server.block, mode: "mailbox", remotePath: `pull-${Date.now()}` } });
    try {
      await writeTree(w.workspace, { "a.txt": "local a\n", "b.txt": "b\n" });
      ok(await w.cli("sync"));
      const cfg = JSON.parse(await import("node:fs/promises").then((f) => f.readFile(w.configFile, "utf8")));
      const folder = cfg.plugins.entries["openclaw-workspace-sync"].config.sync.remotePath as string;
      await remotePut(w.stateDir, `cloud:${server.pathPrefix}${folder}/a.txt`, "remote a, newer\n");
      const refused = await w.cli("sync", "--direction", "pull");
      expect(refused.code).toBe(2);
      const pulled = await w.cli("sync", "--direction", "pull", "--yes");
      expect(pulled.code, pulled.stderr).toBe(0);
      expect((await readTreeContents(w.workspace))["a.txt"]).toBe("remote a, newer\n");
      const trash = await readTreeContents(path.join(w.workspace, ".workspace-sync", "trash"));
      expect(Object.values(trash)).toContain("local a\n");
      await mkdir(path.join(w.workspace, "_inbox"), { recursive: true });
      await remoteDelete(w.stateDir, `cloud:${server.pathPrefix}${folder}/b.txt`).catch(() => {});
    } finally {
      await w.cleanup();
    }
  });
});
