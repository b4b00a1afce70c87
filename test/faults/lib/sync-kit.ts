// Shared helpers of the sync half of the fault suite: processes seen through /proc, waiting, remote trees read
// from the servers' own disks, and the checks every fault case makes on an error message.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import { rcloneEnv, readTree, RCLONE_BIN, type TestServer, writeRcloneConf } from "../../helpers/servers.js";
export { sleep, waitFor } from "./wait.js";
/** Deterministic PRNG (mulberry32): the same seed gives the same kill points. */
export { prng as seeded } from "../../helpers/servers.js";

const run = promisify(execFile);


export interface Proc {
  pid: number;
  ppid: number;
  argv: string[];
}

/** Every live process whose argv matches (read from /proc; processes that end meanwhile are skipped). */
export function processes(match: (p: Proc) => boolean): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").filter(Boolean);
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state[0] === "Z") continue; // a zombie is already dead
      const p = { pid: Number(name), ppid: Number(state[1]), argv };
      if (match(p)) out.push(p);
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/** rclone processes of one test world (every product rclone call names the world's rclone.conf). */
export function rcloneOf(marker: string, sub?: string): Proc[] {
  return processes((p) => (p.argv[0] ?? "").endsWith("rclone") && p.argv.some((a) => a.includes(marker)) && (!sub || p.argv[1] === sub));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** A user-facing error: one short message, no JS stack, no secret, nothing that looks like a Go panic. */
export function expectCleanError(stderr: string, secrets: string[] = []): void {
  expect(stderr).toMatch(/workspace-sync: /);
  expect(stderr, "no JavaScript stack trace").not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(stderr, "no Go panic").not.toMatch(/goroutine \d+|panic:/);
  for (const s of secrets) if (s) expect(stderr.includes(s), "a secret leaked into the message").toBe(false);
}

/** relpath → sha256 for every file under `folder` on the server, read from its own disk (s3rver layout decoded). */
export async function remoteFiles(server: TestServer, folder: string): Promise<Record<string, string>> {
  const all = await server.readRoot();
  const prefix = `${folder}/`;
  const out: Record<string, string> = {};
  for (const [rel, sha] of Object.entries(all)) if (rel.startsWith(prefix)) out[rel.slice(prefix.length)] = sha;
  return out;
}

/**
 * Puts files on a server under `folder`: onto disk for the local remote, through the server otherwise (rclone's
 * sftp/webdav servers cache directory listings, so a file written behind their back would stay invisible).
 */
export async function seedRemote(server: TestServer, folder: string, files: Record<string, string | Buffer>): Promise<void> {
  if (server.kind === "local") {
    for (const [rel, body] of Object.entries(files)) {
      const full = path.join(server.rootDir, folder, rel);
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, body);
    }
    return;
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), "seed-"));
  try {
    for (const [rel, body] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(tmp, "src", rel)), { recursive: true });
      await writeFile(path.join(tmp, "src", rel), body);
    }
    const conf = await writeRcloneConf(path.join(tmp, "rclone.conf"), { seed: server.rcloneSection });
    const target = `seed:${[server.remoteRoot, folder].filter(Boolean).join("/")}`;
    await run(RCLONE_BIN, ["copy", path.join(tmp, "src"), target, "--config", conf], { env: rcloneEnv() });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Deletes one file on a server (through the server, see seedRemote). */
export async function deleteRemote(server: TestServer, folder: string, rel: string): Promise<void> {
  if (server.kind === "local") {
    await rm(path.join(server.rootDir, folder, rel));
    return;
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), "seed-"));
  try {
    const conf = await writeRcloneConf(path.join(tmp, "rclone.conf"), { seed: server.rcloneSection });
    const target = `seed:${[server.remoteRoot, folder, rel].filter(Boolean).join("/")}`;
    await run(RCLONE_BIN, ["deletefile", target, "--config", conf], { env: rcloneEnv() });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * After s3rver is killed mid-PUT its store holds the torn object without metadata (it writes the data first).
 * Real S3 never shows a partial object, so a crashed server's torn objects are removed before it restarts.
 */
export async function dropTornS3Objects(server: TestServer): Promise<string[]> {
  if (server.kind !== "s3") return [];
  const dropped: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name.endsWith("._S3rver_object") && !existsSync(full.replace(/_object$/, "_metadata.json"))) {
        await rm(full, { force: true });
        dropped.push(full);
      }
    }
  };
  await walk(server.rootDir);
  return dropped;
}

/** relpath → sha256 of a local tree, leaving out top-level folders. */
export async function localFiles(root: string, skip: string[] = []): Promise<Record<string, string>> {
  return readTree(root, { ignore: (rel) => skip.some((s) => rel === s || rel.startsWith(`${s}/`)) });
}

/** Writes an executable shell script. */
export async function script(file: string, body: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}
