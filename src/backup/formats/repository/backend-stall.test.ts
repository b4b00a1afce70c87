// The repository transport against a server that accepts connections and never answers (a hung server, a proxy
// whose backend is gone): rclone waits without a word, so a request would wait for rclone's own timeouts (minutes,
// each retried). The request's stall watch asks the remote, gets no answer, and fails it for good, naming the cause.
import { execFileSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRclone } from "../../../rclone/binary.js";
import { RcloneStorage } from "./backend.js";
import { BackendError } from "./errors.js";

describe("repository transport: a server that never answers", () => {
  let pit: net.Server;
  const held: net.Socket[] = [];
  let conf: string;
  beforeAll(async () => {
    pit = net.createServer((sock) => {
      held.push(sock);
      sock.on("error", () => {});
    });
    await new Promise<void>((r) => pit.listen(0, "127.0.0.1", r));
    const dir = await mkdtemp(path.join(os.tmpdir(), "backend-stall-"));
    const bin = await findRclone();
    const pass = execFileSync(bin.path, ["obscure", "not-a-secret"], { encoding: "utf8" }).trim();
    conf = path.join(dir, "rclone.conf");
    await writeFile(conf, `[pit]\ntype = sftp\nhost = 127.0.0.1\nport = ${(pit.address() as net.AddressInfo).port}\nuser = u\npass = ${pass}\nshell_type = unix\nmd5sum_command = md5sum\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => pit.close(r));
  });

  it("fails the request for good once the probe gets no answer: one rclone, no retries, the cause named", async () => {
    const storage = new RcloneStorage({ bin: await findRclone(), configPath: conf, remotePath: "pit:repo", stallMs: 1_500, probeTimeoutMs: 1_500, backoffMs: 50 });
    const started = Date.now();
    const err = await storage.list("snapshots").then(
      () => undefined,
      (e: unknown) => e,
    );
    await storage.close();
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).transient).toBe(false);
    expect((err as Error).message).toMatch(/GET \/snapshots\/ on pit:repo made no progress .* the remote could not be reached/);
    expect(storage.spawned, "not retried on a new rclone").toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
