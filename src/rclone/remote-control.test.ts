// The remote control of a real long-running rclone (`serve restic --stdio` on a local folder): moves through it,
// refuses every call without this process's password, and falls back cleanly when it goes away.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, stat, writeFile, mkdir, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findRclone } from "./binary.js";
import { parseLogLine } from "./log-parse.js";
import { RcCallError, RcUnavailableError, RemoteControl } from "./remote-control.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

async function serveWithRc() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rc-test-"));
  const root = path.join(dir, "root");
  await mkdir(path.join(root, "staging"), { recursive: true });
  const conf = path.join(dir, "rclone.conf");
  await writeFile(conf, "[here]\ntype = local\n", { mode: 0o600 });
  const rc = await RemoteControl.prepare(path.join(dir, "spool"));
  const bin = await findRclone();
  // A user's rc settings (meant for an rc of their own) must not loosen this one.
  const env = RemoteControl.childEnv({ ...process.env, RCLONE_RC_NO_AUTH: "true", RCLONE_RC_SERVE: "true" });
  expect(Object.keys(env).filter((k) => k.startsWith("RCLONE_RC_"))).toEqual([]);
  const child = spawn(bin.path, ["serve", "restic", "--stdio", `here:${root}`, ...rc.args, "--config", conf, "--use-json-log"], { stdio: ["pipe", "ignore", "pipe"], env });
  children.push(child);
  createInterface({ input: child.stderr! }).on("line", (line) => {
    const entry = parseLogLine(line);
    if (entry) rc.see(entry);
  });
  const deadline = Date.now() + 10_000;
  while (!rc.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { dir, root, rc, child, spool: path.join(dir, "spool"), fs: `here:${root}` };
}

describe("rclone's remote control in a long-running rclone", () => {
  it("moves a file on the child's own connection; an error of the remote is an RcCallError", async () => {
    const t = await serveWithRc();
    expect(t.rc.ready).toBe(true);
    await writeFile(path.join(t.root, "staging", "snap-1"), "snapshot bytes");
    await t.rc.call("operations/movefile", { srcFs: t.fs, srcRemote: "staging/snap-1", dstFs: t.fs, dstRemote: "snapshots/aa" }, { timeoutMs: 10_000 });
    expect(await readFile(path.join(t.root, "snapshots", "aa"), "utf8")).toBe("snapshot bytes");
    expect(await readdir(path.join(t.root, "staging"))).toEqual([]);
    const err = await t.rc.call("operations/movefile", { srcFs: t.fs, srcRemote: "staging/none", dstFs: t.fs, dstRemote: "snapshots/bb" }, { timeoutMs: 10_000 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RcCallError);
    expect((err as Error).message).toMatch(/not found/i);
    expect(t.rc.ready).toBe(true); // the remote's error does not retire rc
    await t.rc.dispose();
  });

  it("answers nothing without this process's password; the password is in no file, argv or environment", async () => {
    const t = await serveWithRc();
    const url = t.rc.address!;
    for (const auth of [undefined, `Basic ${Buffer.from("openclaw:guess").toString("base64")}`]) {
      const res = await fetch(`${url}/config/dump`, { method: "POST", headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) }, body: "{}" });
      expect(res.status).toBe(401);
    }
    const [file] = await readdir(t.spool);
    const st = await stat(path.join(t.spool, file!));
    expect(st.mode & 0o777).toBe(0o600);
    // rclone's file holds only a digest of the password; argv names the file.
    const text = await readFile(path.join(t.spool, file!), "utf8");
    expect(text).toMatch(/^openclaw:\{SHA\}[A-Za-z0-9+/=]{28}\n$/);
    const cmdline = await readFile(`/proc/${t.child.pid}/cmdline`, "utf8");
    expect(cmdline).toContain(path.join(t.spool, file!));
    expect(cmdline).not.toMatch(/--rc-(user|pass)/);
    await t.rc.dispose();
    expect(await readdir(t.spool)).toEqual([]);
  });

  it("is retired once unreachable: its file gone (rclone drops the call) or its rclone gone", async () => {
    const t = await serveWithRc();
    await rm(t.spool, { recursive: true });
    const err = await t.rc.call("rc/noop", {}, { timeoutMs: 10_000 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RcUnavailableError);
    expect(t.rc.ready).toBe(false);

    const u = await serveWithRc();
    u.child.kill("SIGKILL");
    await new Promise((r) => u.child.once("exit", r));
    await expect(u.rc.call("rc/noop", {}, { timeoutMs: 10_000 })).rejects.toBeInstanceOf(RcUnavailableError);
    await u.rc.dispose();
  });
});
