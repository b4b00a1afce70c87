// Issue 14: installs (and agents) that share one backup folder never prune or restore each other's snapshots —
// `backup list` shows this install's group unless asked (--all, --host, --agent), `latest` and retention stay within
// the group — and every snapshot is named by its short ID, a unique prefix, `latest` or its full name.
import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTree } from "../helpers/servers.js";
import { backend, type StartedBackend } from "../support/backends.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "groups passphrase 9c1e";

function ok(res: { code: number | null; stdout: string; stderr: string }): string {
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

interface ListJson {
  group: { key: string; host: string; paths: string[] };
  showing: { scope: string };
  snapshots: { id: string; short_id: string; name: string; host: string; agent: string; paths: string[]; group: string }[];
  hidden: number;
}

describe("groups and short IDs (local backend, one shared folder)", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function install(prefix: string, retain: number): Promise<World> {
    const w = await makeWorld({ backup: { ...server.block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain } });
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    return w;
  }
  const list = async (w: World, ...args: string[]) => JSON.parse(ok(await w.cli("backup", "list", "--json", ...args))) as ListJson;
  const commit = async (w: World, ...args: string[]) => JSON.parse(ok(await w.cli(...args, "backup", "now", "--json"))) as { snapshot: string; id: string; short_id: string };

  it("two installs sharing one folder: each lists, restores and prunes only its own group", async () => {
    const prefix = `groups-${randomBytes(3).toString("hex")}`;
    const a = await install(prefix, 1);
    const b = await install(prefix, 5);
    try {
      await writeFile(path.join(a.workspace, "who.txt"), "install A\n");
      await writeFile(path.join(b.workspace, "who.txt"), "install B\n");
      const a1 = await commit(a);
      const b1 = await commit(b);
      const a2 = await commit(a); // A's retention (retain 1) removes a1 — never b1
      expect(a1.short_id).toMatch(/^[0-9a-f]{8}$/);
      expect(a1.id).toMatch(/^[0-9a-f]{64}$/);
      expect(a1.id.startsWith(a1.short_id)).toBe(true);

      const la = await list(a);
      expect(la.showing.scope).toBe("group");
      expect(la.snapshots.map((s) => s.name)).toEqual([a2.snapshot]);
      expect(la.hidden).toBe(1);
      expect(la.snapshots[0]).toMatchObject({ id: a2.id, short_id: a2.short_id, host: os.hostname(), paths: [a.workspace] });
      const lb = await list(b);
      expect(lb.snapshots.map((s) => s.name)).toEqual([b1.snapshot]);
      expect(lb.group.key).not.toBe(la.group.key);
      expect((await list(a, "--all")).snapshots.map((s) => s.name).sort()).toEqual([a2.snapshot, b1.snapshot].sort());
      expect((await list(a, "--host", os.hostname())).snapshots).toHaveLength(2);
      expect((await list(a, "--host", "no-such-host")).snapshots).toHaveLength(0);

      const text = ok(await a.cli("backup", "list"));
      expect(text).toMatch(new RegExp(`group ${la.group.key} \\(this install\\): host ${os.hostname()}, paths ${a.workspace}`));
      expect(text).toMatch(new RegExp(`^${a2.short_id}  ${a2.snapshot}`, "m"));
      expect(text).toMatch(/1 snapshot\(s\) of other groups .* not shown: --all lists every group/);

      // `latest` is each install's own newest, although B's snapshot was committed after a1 and A's after b1.
      for (const [w, want] of [
        [a, "install A\n"],
        [b, "install B\n"],
      ] as const) {
        const to = path.join(w.root, "latest");
        ok(await w.cli("backup", "restore", "--to", to));
        expect(await readFile(path.join(to, "workspace", "who.txt"), "utf8")).toBe(want);
      }

      // A stricter policy in B prunes B's group only; A's prune leaves B's snapshot alone.
      await commit(b);
      const pruneA = JSON.parse(ok(await a.cli("backup", "prune", "--json"))) as { remove: string[]; keep: { name: string }[] };
      expect(pruneA.remove).toEqual([]);
      expect(pruneA.keep.map((k) => k.name)).toEqual([a2.snapshot]);
      expect((await list(b)).snapshots).toHaveLength(2);
      // Another install's snapshot can still be named explicitly (disaster recovery on a fresh machine).
      const to = path.join(a.root, "theirs");
      ok(await a.cli("backup", "restore", "--snapshot", b1.short_id, "--to", to));
      expect(await readFile(path.join(to, "workspace", "who.txt"), "utf8")).toBe("install B\n");
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  it("another agent of the same install is its own group; --agent lists its snapshots", async () => {
    const prefix = `agents-${randomBytes(3).toString("hex")}`;
    const w = await install(prefix, 1);
    try {
      await writeFile(path.join(w.workspace, "who.txt"), "main agent\n");
      const opsWorkspace = path.join(w.stateDir, "workspace-ops");
      await mkdir(opsWorkspace);
      await writeFile(path.join(opsWorkspace, "who.txt"), "ops agent\n");
      const main = await commit(w);
      const ops = await commit(w, "--agent", "ops");
      await commit(w, "--agent", "ops"); // retain 1 within the ops group: main's snapshot stays
      const mine = await list(w);
      expect(mine.snapshots.map((s) => s.name)).toEqual([main.snapshot]);
      const opsList = await list(w, "--agent", "ops");
      expect(opsList.snapshots).toHaveLength(1);
      expect(opsList.snapshots[0]).toMatchObject({ agent: "ops", paths: [opsWorkspace] });
      expect(opsList.snapshots[0]!.name).not.toBe(ops.snapshot); // replaced by the newer ops snapshot
      const to = path.join(w.root, "ops-latest");
      ok(await w.cli("--agent", "ops", "backup", "restore", "--to", to));
      expect(await readFile(path.join(to, "workspace", "who.txt"), "utf8")).toBe("ops agent\n");
    } finally {
      await w.cleanup();
    }
  });

  it("a snapshot is named by a unique ID prefix, latest or its full name; an ambiguous prefix lists the candidates (exit 2)", async () => {
    const prefix = `ids-${randomBytes(3).toString("hex")}`;
    const w = await install(prefix, 50);
    const repoDir = path.join(server.server.rootDir, prefix);
    try {
      await writeFile(path.join(w.workspace, "a.txt"), "a\n");
      const first = await commit(w);
      // Copies of the snapshot under other names (each manifest names its own object, so each has its own ID) until
      // two IDs share their first hex digit.
      const manifest = await readFile(path.join(repoDir, `${first.snapshot}.manifest.json`), "utf8");
      const ids = new Map<string, string>([[first.id, first.snapshot]]);
      let shared: string | undefined;
      for (let i = 0; !shared && i < 64; i++) {
        const name = first.snapshot.replace(/-[0-9a-f]{8}\./, `-${i.toString(16).padStart(8, "0")}.`);
        const text = manifest.replaceAll(first.snapshot, name);
        const id = createHash("sha256").update(text).digest("hex");
        await copyFile(path.join(repoDir, first.snapshot), path.join(repoDir, name));
        await writeFile(path.join(repoDir, `${name}.manifest.json`), text);
        if ([...ids.keys()].some((other) => other[0] === id[0])) shared = id[0];
        ids.set(id, name);
      }
      expect(shared).toBeDefined();
      const listed = await list(w);
      expect(new Set(listed.snapshots.map((s) => s.id))).toEqual(new Set(ids.keys()));

      const ambiguous = await w.cli("backup", "verify", "--snapshot", shared!);
      expect(ambiguous.code).toBe(2);
      expect(ambiguous.stderr).toMatch(new RegExp(`snapshot ID prefix ${shared} is ambiguous: it matches .*${shared}[0-9a-f]{7} backup-.*; ${shared}[0-9a-f]{7} backup-`));
      expect(ambiguous.stderr).not.toMatch(/^\s+at /m);

      const [id, name] = [...ids].find(([i]) => i[0] !== shared) ?? [...ids][0]!;
      const unique = [...ids.keys()].every((other) => other === id || !other.startsWith(id.slice(0, 8))) ? id.slice(0, 8) : id;
      expect(ok(await w.cli("backup", "verify", "--snapshot", unique))).toMatch(new RegExp(`^ok ${name} \\[${id.slice(0, 8)}\\]`, "m"));
      expect(ok(await w.cli("backup", "verify", "--snapshot", name))).toMatch(/^ok /m);
      expect(ok(await w.cli("backup", "verify", "--snapshot", id.toUpperCase()))).toMatch(/^ok /m);
      const to = path.join(w.root, "by-id");
      ok(await w.cli("backup", "restore", "--snapshot", id.slice(0, 8), "--to", to));
      expect(await readTree(path.join(to, "workspace"))).toEqual(await readTree(w.workspace));

      const missing = await w.cli("backup", "restore", "--snapshot", "ffffffffffff", "--dry-run");
      if (![...ids.keys()].some((i) => i.startsWith("ffffffffffff"))) {
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(/there is no snapshot ffffffffffff/);
      }
      expect((await readdir(repoDir)).length).toBe(ids.size * 2);
    } finally {
      await w.cleanup();
    }
  });
});
