// The stall probe against the real rclone: a folder that exists or not answers; a closed port and a server that
// accepts connections but never speaks (a tarpit) do not. And a transfer that hangs silently against such a server
// is stopped as stalled instead of waiting for the run's overall timeout.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRclone, type RcloneBinary } from "./binary.js";
import { remoteAnswers } from "./reach.js";
import { runRclone, summarizeFailure } from "./runner.js";

const remoteAt = (configPath: string, name: string, folder: string) => ({ configPath, path: (rel: string) => `${name}:${path.posix.join(folder, rel)}` });

describe("stall probe (real rclone)", () => {
  let bin: RcloneBinary;
  let dir: string;
  let conf: string;
  let tarpit: net.Server;
  const held: net.Socket[] = [];
  let closedPort = 0;

  beforeAll(async () => {
    bin = await findRclone();
    dir = await mkdtemp(path.join(os.tmpdir(), "reach-"));
    tarpit = net.createServer((sock) => {
      held.push(sock); // accepted, never answered
      sock.on("error", () => {});
    });
    await new Promise<void>((r) => tarpit.listen(0, "127.0.0.1", r));
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, "127.0.0.1", r));
    closedPort = (free.address() as net.AddressInfo).port;
    await new Promise((r) => free.close(r));
    const pass = execFileSync(bin.path, ["obscure", "not-a-secret"], { encoding: "utf8" }).trim();
    const sftp = (port: number) => `type = sftp\nhost = 127.0.0.1\nport = ${port}\nuser = u\npass = ${pass}\nshell_type = unix\nmd5sum_command = md5sum\n`;
    conf = path.join(dir, "rclone.conf");
    await writeFile(conf, `[local]\ntype = local\n\n[pit]\n${sftp((tarpit.address() as net.AddressInfo).port)}\n[closed]\n${sftp(closedPort)}`, { mode: 0o600 });
    await mkdir(path.join(dir, "there"));
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => tarpit.close(r));
  });

  const ask = (name: string, folder: string, timeoutMs = 5_000) => remoteAnswers(bin, remoteAt(conf, name, folder), process.env, { signal: new AbortController().signal, timeoutMs });

  it("a folder that exists, or not yet, answers", async () => {
    expect(await ask("local", path.join(dir, "there"))).toBe(true);
    expect(await ask("local", path.join(dir, "not-yet"))).toBe(true);
  });

  it("a closed port and a server that never speaks do not answer", async () => {
    expect(await ask("closed", "x")).toBe(false);
    const started = Date.now();
    expect(await ask("pit", "x", 1_500)).toBe(false);
    expect(Date.now() - started).toBeLessThan(15_000); // the probe's own timeout, not rclone's minutes
  });

  it("a cancelled probe gives no verdict", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    expect(await remoteAnswers(bin, remoteAt(conf, "pit", "x"), process.env, { signal: ac.signal, timeoutMs: 10_000 })).toBe(true);
  });

  it("a transfer that hangs without a word against a server that never speaks is stopped as stalled", async () => {
    const started = Date.now();
    const res = await runRclone(bin, {
      args: ["copy", "pit:x", path.join(dir, "dst")],
      configPath: conf,
      onStats: () => {},
      stallMs: 1_500,
      stallProbe: (signal) => remoteAnswers(bin, remoteAt(conf, "pit", "x"), process.env, { signal, timeoutMs: 1_500 }),
      killGraceMs: 1_000,
      timeoutMs: 120_000,
    });
    expect(res.stalled).toBe(true);
    expect(res.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(summarizeFailure("copy", res)).toMatch(/the remote could not be reached/);
  });
});
