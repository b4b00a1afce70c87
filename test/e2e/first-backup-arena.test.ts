// A first `backup now`, a `backup restore` and a `backup verify --read-data` replace their process once with itself in
// one malloc arena (src/cli/malloc-arena.ts); later backups, listings, dry runs and structure checks do not, and a
// setting the user made is kept. Observed from inside the CLI: a module preloaded through NODE_OPTIONS appends the
// process's PID and its malloc settings to a file each time the process starts.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend, type StartedBackend } from "../support/backends.js";
import { makeWorld, type World } from "../support/world.js";

const PASS = "arena e2e passphrase 41b9-long";

describe.skipIf(process.platform !== "linux")("a first backup restarts in one malloc arena", () => {
  let server: StartedBackend;
  let marker: string;
  let preload: string;
  const worlds: World[] = [];

  beforeAll(async () => {
    server = await backend("local").start();
    const dir = await mkdtemp(path.join(os.tmpdir(), "wsync-arena-"));
    marker = path.join(dir, "starts.log");
    preload = path.join(dir, "preload.mjs");
    await writeFile(
      preload,
      `import { appendFileSync } from "node:fs";\nimport { isMainThread } from "node:worker_threads";\n` +
        `if (isMainThread) appendFileSync(${JSON.stringify(marker)}, \`\${process.pid} \${process.env.MALLOC_ARENA_MAX ?? "-"} \${process.env.GLIBC_TUNABLES ?? "-"}\\n\`);\n`,
    );
  });
  afterAll(async () => {
    for (const w of worlds) await w.cleanup();
    await server?.stop();
  });

  async function world(format: string, env: NodeJS.ProcessEnv = {}): Promise<World> {
    const w = await makeWorld(
      { backup: { ...server.block, prefix: `arena-${worlds.length}`, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], format } },
      { NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`, ...env },
    );
    worlds.push(w);
    // Whatever the machine running the tests set, the CLI starts without malloc settings unless the test gives one.
    for (const key of ["MALLOC_ARENA_MAX", "GLIBC_TUNABLES"]) if (env[key] === undefined) delete w.env[key];
    await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${PASS}\n`, { mode: 0o600 });
    await writeFile(path.join(w.workspace, "notes.md"), "# notes\n".repeat(100));
    await writeFile(marker, "");
    return w;
  }
  const starts = async () => (await readFile(marker, "utf8")).trim().split("\n").filter(Boolean).map((l) => l.split(" "));

  it("first backup: one restart, same PID, with the settings; the next backup runs as started; listing never restarts", async () => {
    const w = await world("repository");
    const first = await w.cli("backup", "now", "-q");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).toBe("");
    const [before, after, ...more] = await starts();
    expect(more).toEqual([]);
    expect(before![0]).toBe(after![0]); // the same process, replaced
    expect(before!.slice(1)).toEqual(["-", "-"]);
    expect(after![1]).toBe("1");
    expect(after![2]).toContain("glibc.malloc.mmap_threshold=");

    await writeFile(marker, "");
    const second = await w.cli("backup", "now", "-q");
    expect(second.code, second.stderr).toBe(0);
    expect(await starts()).toEqual([[expect.any(String), "-", "-"]]);

    await writeFile(marker, "");
    const list = await w.cli("backup", "list");
    expect(list.code, list.stderr).toBe(0);
    expect((await starts()).length).toBe(1);

    // A restore restarts the same way (its dry run does not), and what it writes is the file backed up.
    await writeFile(marker, "");
    const dry = await w.cli("backup", "restore", "--dry-run", "-q");
    expect(dry.code, dry.stderr).toBe(0);
    expect((await starts()).length).toBe(1);
    await writeFile(marker, "");
    const to = path.join(w.root, "restored");
    const restore = await w.cli("backup", "restore", "--to", to, "-q");
    expect(restore.code, restore.stderr).toBe(0);
    const [r1, r2, ...rest] = await starts();
    expect(rest).toEqual([]);
    expect(r1![0]).toBe(r2![0]);
    expect(r2![1]).toBe("1");
    expect(await readFile(path.join(to, "workspace", "notes.md"), "utf8")).toBe("# notes\n".repeat(100));

    // A verify that reads the data back restarts too (and still passes); the structure check alone does not.
    await writeFile(marker, "");
    const structure = await w.cli("backup", "verify", "-q");
    expect(structure.code, structure.stderr).toBe(0);
    expect((await starts()).length).toBe(1);
    await writeFile(marker, "");
    const data = await w.cli("backup", "verify", "--read-data", "-q");
    expect(data.code, data.stderr).toBe(0);
    const [v1, v2, ...vrest] = await starts();
    expect(vrest).toEqual([]);
    expect(v1![0]).toBe(v2![0]);
    expect(v2![1]).toBe("1");
  });

  it("keeps a malloc setting the user made, and the archive format restarts the same way", async () => {
    const own = await world("repository", { MALLOC_ARENA_MAX: "4" });
    const res = await own.cli("backup", "now", "-q");
    expect(res.code, res.stderr).toBe(0);
    expect(await starts()).toEqual([[expect.any(String), "4", "-"]]);

    const archive = await world("archive");
    const a = await archive.cli("backup", "now", "-q");
    expect(a.code, a.stderr).toBe(0);
    const lines = await starts();
    expect(lines.map((l) => l[1])).toEqual(["-", "1"]);
  });
});
