// `workspace-sync schedule`: the standalone counterpart of the plugin's service. The crontab path runs against the
// real `crontab` (this machine has no systemd user session, so it is what install picks); the installed lines are
// then run the way cron runs them — /bin/sh with cron's tiny environment — and must work. The systemd path is
// checked as text by `systemd-analyze verify`.
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend, type StartedBackend } from "../support/backends.js";
import { binPath, runCli } from "../support/cli.js";
import { writeTree } from "../support/tree.js";
import { makeWorld, type World } from "../support/world.js";

const exec = promisify(execFile);
const PASSPHRASE = "correct horse battery staple 42";

function has(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function crontab(): Promise<string> {
  try {
    return (await exec("crontab", ["-l"])).stdout;
  } catch {
    return "";
  }
}

async function setCrontab(text: string | undefined): Promise<void> {
  if (text === undefined || text === "") await exec("crontab", ["-r"]).catch(() => {});
  else await new Promise<void>((resolve, reject) => {
    const child = execFile("crontab", ["-"], (err) => (err ? reject(err) : resolve()));
    child.stdin!.end(text);
  });
}

async function scheduledWorld(server: StartedBackend): Promise<World> {
  const w = await makeWorld({
    sync: { ...server.block, mode: "mirror", remotePath: "cron-share", interval: 300 },
    backup: { enabled: true, ...server.block, prefix: "cron-backups", interval: 86400, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"] },
  });
  await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE="${PASSPHRASE}"\n`, { mode: 0o600 });
  await writeTree(w.workspace, { "notes.md": "# notes\n" });
  return w;
}

describe.skipIf(!has("crontab"))("schedule with cron", () => {
  let server: StartedBackend;
  let original: string;
  beforeAll(async () => {
    server = await backend("local").start();
    original = await crontab();
  });
  afterAll(async () => {
    await setCrontab(original);
    await server?.stop();
  });

  it("install: a marked block with absolute paths, idempotent, other lines kept; the lines work with cron's environment; remove takes only the block", async () => {
    const w = await scheduledWorld(server);
    try {
      const mine = "# my own job, not workspace-sync's\n17 4 * * * /bin/true\n";
      await setCrontab(`${original}${mine}`);

      const installed = await w.cli("schedule", "install");
      expect(installed.code, installed.stderr).toBe(0);
      expect(installed.stdout).toMatch(/installed a block "workspace-sync [0-9a-f]{8}" in the crontab/);
      expect(installed.stdout).toMatch(/sync +every 5m00s — cron "\*\/5 \* \* \* \*", next \d{4}-/);
      expect(installed.stdout).toMatch(/backup +every 24h00m — cron "\d+ [1-4] \* \* \*", next /);

      const table = await crontab();
      expect(table.startsWith(`${original}${mine}`)).toBe(true);
      const block = table.slice(original.length + mine.length);
      const [begin, ...rest] = block.trim().split("\n");
      expect(begin).toMatch(/^# >>> workspace-sync [0-9a-f]{8} >>>$/);
      expect(rest.at(-1)).toMatch(/^# <<< workspace-sync [0-9a-f]{8} <<<$/);
      const jobs = rest.filter((l) => !l.startsWith("#"));
      expect(jobs).toHaveLength(2);
      for (const line of jobs) {
        expect(line).toContain(`${process.execPath} ${binPath} --state-dir ${w.stateDir} --config ${w.configFile}`);
        expect(line).toMatch(/ -q >\/dev\/null 2>>\S+schedule\.log$/);
      }
      expect(jobs[0]).toMatch(/^\*\/5 \* \* \* \* PATH=\S*\/usr\/bin\S* .* sync -q /);
      expect(jobs[1]).toMatch(/ backup now -q /);

      // idempotent: the same table after a second install
      expect((await w.cli("schedule", "install")).code).toBe(0);
      expect(await crontab()).toBe(table);

      // the lines as cron runs them: /bin/sh, HOME and a two-entry PATH, nothing else from this shell
      for (const line of jobs) {
        const command = line.split(" ").slice(5).join(" ").replace(/\\%/g, "%");
        await exec("env", ["-i", `HOME=${w.root}`, "LOGNAME=root", "SHELL=/bin/sh", "PATH=/usr/bin:/bin", "/bin/sh", "-c", command]);
      }
      const logFile = path.join(w.stateDir, "workspace-sync", "schedule.log");
      expect(await readFile(logFile, "utf8")).toBe(""); // -q: nothing on success
      expect(await readFile(path.join(server.server.rootDir, "cron-share", "notes.md"), "utf8")).toBe("# notes\n");
      const list = await w.cli("backup", "list", "--json");
      expect(JSON.parse(list.stdout).snapshots).toHaveLength(1);

      // status sees who runs the jobs and when
      const sched = await w.cli("schedule", "status", "--json");
      expect(sched.code).toBe(0);
      const s = JSON.parse(sched.stdout) as { active: boolean; kind: string; jobs: { job: string; nextRun: string }[] };
      expect(s).toMatchObject({ active: true, kind: "cron" });
      const nextSync = Date.parse(s.jobs.find((j) => j.job === "sync")!.nextRun);
      expect(nextSync - Date.now()).toBeLessThanOrEqual(5 * 60_000);
      const top = await w.cli("status");
      expect(top.stdout).toMatch(/^scheduler: crontab$/m);
      expect(top.stdout).toMatch(/^next sync: \S+ \(cron\)$/m);
      expect(top.stdout).toMatch(/^next backup: \S+ \(cron\)$/m);

      // removed by hand: status says the schedule is not in place any more (exit 1)
      await setCrontab(`${original}${mine}`);
      const gone = await w.cli("schedule", "status");
      expect(gone.code).toBe(1);
      expect(gone.stdout).toMatch(/NOT in place/);
      expect((await w.cli("status")).stdout).toMatch(/installed schedule: the crontab block .* is gone/);

      expect((await w.cli("schedule", "install")).code).toBe(0);
      const removed = await w.cli("schedule", "remove");
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toMatch(/^removed: crontab block workspace-sync [0-9a-f]{8}$/m);
      expect(await crontab()).toBe(`${original}${mine}`);
      await expect(stat(path.join(w.stateDir, "workspace-sync", "schedule.json"))).rejects.toThrow();
      const again = await w.cli("schedule", "remove");
      expect(again.stdout).toMatch(/nothing was installed/);
    } finally {
      await w.cleanup();
    }
  });

  it("refuses to install jobs that would miss a variable only this shell has; --print changes nothing", async () => {
    const w = await scheduledWorld(server);
    try {
      await w.writeConfig({ sync: { ...server.block, mode: "mirror", remotePath: "x", interval: 600, crypt: { password: "${SHELL_ONLY_PW}" } } });
      const before = await crontab();
      const r = await runCli(["schedule", "install"], { env: { ...w.env, SHELL_ONLY_PW: "from-my-shell-profile" } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/scheduled job would not have what this shell has/);
      expect(r.stderr).toContain("SHELL_ONLY_PW");
      expect(r.stderr).toContain(path.join(w.stateDir, ".env"));
      expect(r.stderr).not.toContain("from-my-shell-profile");
      expect(await crontab()).toBe(before);

      const printed = await runCli(["schedule", "install", "--using", "cron", "--print"], { env: { ...w.env, SHELL_ONLY_PW: "x" } });
      expect(printed.code).toBe(0);
      expect(printed.stdout).toMatch(/^# >>> workspace-sync [0-9a-f]{8} >>>\n# added by `workspace-sync schedule install`/);
      expect(printed.stdout).toMatch(/^\*\/10 \* \* \* \* PATH=/m);
      expect(await crontab()).toBe(before);
    } finally {
      await w.cleanup();
    }
  });
});

describe.skipIf(!has("systemd-analyze"))("schedule with systemd (unit text)", () => {
  let server: StartedBackend;
  beforeAll(async () => {
    server = await backend("local").start();
  });
  afterAll(async () => server?.stop());

  it("--print gives a service and a timer per job that systemd-analyze verify accepts", async () => {
    const w = await scheduledWorld(server);
    const dir = await mkdtemp(path.join(os.tmpdir(), "wsync-units-"));
    try {
      const r = await w.cli("schedule", "install", "--using", "systemd", "--print");
      expect(r.code, r.stderr).toBe(0);
      const files = r.stdout.split(/^# (\/\S+)\n/m).slice(1);
      const units: Record<string, string> = {};
      for (let i = 0; i < files.length; i += 2) units[path.basename(files[i]!)] = files[i + 1]!;
      const names = Object.keys(units).sort();
      expect(names).toEqual([
        expect.stringMatching(/^workspace-sync-[0-9a-f]{8}-backup\.service$/),
        expect.stringMatching(/^workspace-sync-[0-9a-f]{8}-backup\.timer$/),
        expect.stringMatching(/^workspace-sync-[0-9a-f]{8}-sync\.service$/),
        expect.stringMatching(/^workspace-sync-[0-9a-f]{8}-sync\.timer$/),
      ]);
      expect(files[0]).toContain(path.join(w.root, ".config", "systemd", "user"));
      const syncService = units[names[2]!]!;
      expect(syncService).toContain(`ExecStart=${process.execPath} ${binPath} --state-dir ${w.stateDir} --config ${w.configFile} sync -q`);
      expect(syncService).toContain("SuccessExitStatus=3");
      expect(units[names[3]!]).toMatch(/^OnUnitInactiveSec=300s$/m);
      expect(units[names[1]!]).toMatch(/^OnUnitInactiveSec=86400s$/m);
      for (const [name, text] of Object.entries(units)) await writeFile(path.join(dir, name), text);
      const runtime = path.join(dir, "runtime");
      await exec("mkdir", ["-m", "700", runtime]);
      const verify = await exec("systemd-analyze", ["verify", "--user", ...names.map((n) => path.join(dir, n))], {
        env: { ...process.env, XDG_RUNTIME_DIR: runtime, HOME: w.root },
      });
      expect(verify.stderr).toBe("");
      await expect(stat(path.join(w.root, ".config", "systemd"))).rejects.toThrow(); // --print installed nothing
    } finally {
      await w.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
