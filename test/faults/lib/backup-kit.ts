// Shared helpers of the backup half of the fault suite: the CLI's rclone children seen through /proc, a killer that
// fires at a named phase of a backup/verify/restore, and the checks every case makes after a fault (listed snapshots
// verify, `restore latest` is byte-identical to the last committed generation, the next run cleans every leftover).
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { randomTree, readTree, type TestServer } from "../../helpers/servers.js";
import { type CliResult, startCli } from "../../support/cli.js";
import { rclone } from "../../support/remote-view.js";
import { makeWorld, type World } from "../../support/world.js";
import { sleep, waitFor } from "./wait.js";

export { sleep, waitFor };
/** Deterministic PRNG (mulberry32): the same seed gives the same kill points. */
export { prng as seeded } from "../../helpers/servers.js";


export interface Proc {
  pid: number;
  argv: string[];
}

function argvOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") return undefined; // already dead
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Direct children of a process (Linux /proc/<pid>/task/<tid>/children, every thread). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      // thread ended
    }
  }
  return out;
}

/** A process and all its descendants (by parent links). */
export function treeOf(pid: number): number[] {
  const seen = [pid];
  for (let i = 0; i < seen.length; i++) for (const c of childrenOf(seen[i]!)) if (!seen.includes(c)) seen.push(c);
  return seen;
}

export function alive(pid: number): boolean {
  return argvOf(pid) !== undefined;
}

/** Live rclone processes using this world's rclone.conf (also orphans of a killed CLI). */
export function rclonesOf(w: World): Proc[] {
  const conf = path.join(w.stateDir, "workspace-sync", "rclone.conf");
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const argv = argvOf(Number(name));
    if (argv && (argv[0] ?? "").endsWith("rclone") && argv.includes(conf)) out.push({ pid: Number(name), argv });
  }
  return out;
}

// --- phases of a run, as its rclone children show them -----------------------------------------------------------

/** What a backup/verify/restore is doing, read from the rclone child it runs. */
export type Phase =
  | "listing" // the repository listing before anything is uploaded
  | "mid-rcat" // the data object is being uploaded and already has bytes on the remote
  | "stat" // data object uploaded, its size read back: between the data object and the manifest
  | "rcat-manifest" // the manifest is being uploaded
  | "retention-manifest" // retention deletes a snapshot's manifest (after the commit)
  | "retention-data" // retention deletes a snapshot's data object (its manifest already gone)
  | "mid-cat" // verify/restore streams the data object
  | "after-cat" // verify/restore read the whole object; the CLI is finishing (restore: moving into place)
  | "mid-write" // a folder on this machine written directly (no rclone): the data object already has bytes
  | "random"; // a seeded delay after the start

/** Which process gets SIGKILL: the CLI (its rclone children live on as orphans), one rclone child, or both. */
export type Victim = "cli" | "rclone" | "tree";

export interface KillPlan {
  phase: Phase;
  victim: Victim;
  /** Extra delay once the phase is seen (mid-rcat, mid-cat, random). */
  delayMs: number;
}

const isManifest = (a: string | undefined) => !!a && a.endsWith(".manifest.json");

/**
 * Runs the CLI and SIGKILLs at the planned phase. `bytesOnRemote` tells whether the data object has bytes yet
 * (mid-rcat). Returns the run's result, whether the kill landed, and what was killed.
 */
export async function killedRun(
  w: World,
  args: string[],
  plan: KillPlan,
  opts: { env?: NodeJS.ProcessEnv; bytesOnRemote?: () => Promise<boolean> } = {},
): Promise<{ res: CliResult; killed: boolean; what: string }> {
  const run = startCli(args, { env: { ...w.env, ...opts.env } });
  const cli = run.child.pid!;
  let ended = false;
  void run.done.then(() => (ended = true));
  const started = Date.now();
  let sawManifest = false;
  let sawCat = false;
  let what = "";
  let target: number[] | undefined;
  while (!ended && !target) {
    const kids = childrenOf(cli)
      .map((pid) => ({ pid, argv: argvOf(pid) ?? [] }))
      .filter((p) => (p.argv[0] ?? "").endsWith("rclone"));
    const cmd = (p: Proc) => p.argv[1];
    const obj = (p: Proc) => p.argv[2];
    if (kids.some((p) => cmd(p) === "rcat" && isManifest(obj(p)))) sawManifest = true;
    const dataCat = (p: Proc) => cmd(p) === "cat" && !isManifest(obj(p)); // not a manifest fetch of the listing
    if (kids.some(dataCat)) sawCat = true;
    let hit: Proc | undefined;
    switch (plan.phase) {
      case "listing":
        hit = kids.find((p) => cmd(p) === "lsjson" && !p.argv.includes("--stat"));
        break;
      case "mid-rcat": {
        const up = kids.find((p) => cmd(p) === "rcat" && !isManifest(obj(p)));
        if (up && (!opts.bytesOnRemote || (await opts.bytesOnRemote()))) hit = up;
        break;
      }
      case "stat":
        hit = kids.find((p) => cmd(p) === "lsjson" && p.argv.includes("--stat"));
        break;
      case "rcat-manifest":
        hit = kids.find((p) => cmd(p) === "rcat" && isManifest(obj(p)));
        break;
      case "retention-manifest":
        hit = sawManifest ? kids.find((p) => cmd(p) === "deletefile" && isManifest(obj(p))) : undefined;
        break;
      case "retention-data":
        hit = sawManifest ? kids.find((p) => cmd(p) === "deletefile" && !isManifest(obj(p))) : undefined;
        break;
      case "mid-cat":
        hit = kids.find(dataCat);
        break;
      case "after-cat":
        hit = sawCat && !kids.some(dataCat) ? { pid: cli, argv: [] } : undefined;
        break;
      case "mid-write":
        hit = opts.bytesOnRemote && (await opts.bytesOnRemote()) ? { pid: cli, argv: ["", "write"] } : undefined;
        break;
      case "random":
        hit = Date.now() - started >= plan.delayMs ? { pid: cli, argv: [] } : undefined;
        break;
    }
    if (hit) {
      if (plan.phase === "mid-rcat" || plan.phase === "mid-cat" || plan.phase === "mid-write") await sleep(plan.delayMs);
      what = hit.argv.slice(1, 3).join(" ");
      target = plan.victim === "cli" || hit.pid === cli ? [cli] : plan.victim === "rclone" ? [hit.pid] : treeOf(cli);
      break;
    }
    await sleep(2);
  }
  let killed = false;
  for (const pid of target ?? []) {
    if (!ended && alive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
        killed = true;
      } catch {
        // ended meanwhile
      }
    }
  }
  return { res: await run.done, killed, what };
}

// --- checks ----------------------------------------------------------------------------------------------------

export interface ListJson {
  snapshots: { name: string; created: string }[];
  damaged: { name: string; problem: string }[];
  leftovers: number;
}

export function ok(r: CliResult, what = ""): string {
  expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

export async function listOf(w: World): Promise<ListJson> {
  return JSON.parse(ok(await w.cli("backup", "list", "--json"), "backup list")) as ListJson;
}

/** Every object in the repository folder (rclone lsf through the product's rclone.conf). */
export async function repoObjects(w: World, repo: string): Promise<string[]> {
  return (await rclone(w.stateDir, "lsf", repo).catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .sort();
}

/** The repository holds exactly the listed snapshots' data objects and manifests: no orphan, no partial. */
export async function expectNoOrphans(w: World, repo: string, list: ListJson, what: string): Promise<void> {
  const expected = list.snapshots.flatMap((s) => [s.name, `${s.name}.manifest.json`]).sort();
  expect(await repoObjects(w, repo), what).toEqual(expected);
  expect(list.leftovers, what).toBe(0);
  expect(list.damaged, what).toEqual([]);
}

/** Restores `latest` to a fresh folder and compares the workspace with the expected tree digest. */
export async function expectRestoreLatest(w: World, expected: Record<string, string>, what: string): Promise<void> {
  const to = path.join(w.root, `restore-${Date.now()}-${Math.floor(Math.random() * 1e6)}`);
  ok(await w.cli("backup", "restore", "--to", to), `restore latest (${what})`);
  expect(await readTree(path.join(to, "workspace")), `restore latest is byte-identical (${what})`).toEqual(expected);
}

/** No rclone of this world is left running (orphans of a killed CLI end or are stopped by the next run). */
export async function expectNoRcloneLeft(w: World, timeoutMs = 15_000): Promise<void> {
  const gone = await waitFor(() => rclonesOf(w).length === 0, timeoutMs, 50);
  expect(gone, `rclone processes left: ${JSON.stringify(rclonesOf(w).map((p) => p.argv.slice(0, 3)))}`).toBe(true);
}

/** A staging folder of a restore, anywhere under dir (hidden `.workspace-sync-restore-*`). */
export async function stagingLeft(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(".workspace-sync-restore-"));
}

export async function writeText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}

// --- the kill cases' world ----------------------------------------------------------------------------------------

export const KILL_PASS = "kill faults passphrase 41c9";
/** rclone reads flag defaults from RCLONE_*: a bandwidth limit makes the killed run's transfers last. */
export const SLOW = { RCLONE_BWLIMIT: "6M" };

export interface KillWorld {
  w: World;
  repo: string;
  /** Directory of the repository on the server's disk (for "has the upload started"). */
  repoDir: string;
}

/**
 * A world backing up into a fresh folder of `server`. A local folder is written directly by the product (no rclone);
 * `viaRclone` reaches the same folder through an rclone alias remote instead, for the kill points that are rclone
 * children (mid-rcat, mid-cat, …).
 */
export async function killWorld(server: TestServer, retain = 2, opts: { viaRclone?: boolean } = {}): Promise<KillWorld> {
  const prefix = `kill-${randomBytes(3).toString("hex")}`;
  const alias = opts.viaRclone && server.kind === "local";
  const block = alias
    ? { provider: "custom", custom: { rcloneType: "alias", rcloneOptions: { remote: server.rootDir } } }
    : (server.configBlock as unknown as Record<string, unknown>);
  const w = await makeWorld({ backup: { ...block, prefix, encrypt: true, passphrase: "${BACKUP_PASSPHRASE}", include: ["workspace"], retain } });
  await writeFile(path.join(w.stateDir, ".env"), `BACKUP_PASSPHRASE=${KILL_PASS}\n`, { mode: 0o600 });
  // ~3.5 MiB stored: long enough at 6 MB/s to be cut mid-upload, small enough for many trials.
  await randomTree(w.workspace, { files: 24, maxSize: 120_000, seed: 17 });
  await randomTree(path.join(w.workspace, "big"), { files: 1, minSize: 2_200_000, maxSize: 2_200_000, seed: 5 });
  const root = alias ? "" : server.remoteRoot.replace(/\/+$/, "");
  const repo = `cloud-backup:${root ? `${root}/` : ""}${prefix}`;
  return { w, repo, repoDir: path.join(server.rootDir, prefix) };
}

/** True once the data object being uploaded has bytes on the server's disk. */
export function uploadStarted(repoDir: string): () => Promise<boolean> {
  // Only an object that was not there yet: the earlier snapshots' data objects have bytes too.
  const before = new Set(existsSync(repoDir) ? readdirSync(repoDir) : []);
  return async () => {
    const names = await readdir(repoDir).catch(() => [] as string[]);
    for (const n of names) {
      if (before.has(n) || !n.startsWith("backup-") || n.includes(".manifest.json")) continue;
      const st = await stat(path.join(repoDir, n)).catch(() => undefined);
      if (st && st.size > 0) return true;
    }
    return false;
  };
}
