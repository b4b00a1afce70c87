import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findRclone } from "./binary.js";
import { runRclone } from "./runner.js";
import { parseRcloneVersion } from "./version.js";

describe("rclone runner", () => {
  it("finds the real rclone and detects its version", async () => {
    const bin = await findRclone();
    expect(bin.version.major).toBe(1);
    expect(bin.version.minor).toBeGreaterThanOrEqual(60);
  });

  it("a timeout ends the whole process tree (TERM, then KILL)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "runner-"));
    // A fake "rclone" that ignores TERM and spawns a grandchild: only a group KILL ends both.
    const fake = path.join(dir, "rclone");
    const pidFile = path.join(dir, "grandchild.pid");
    await writeFile(fake, `#!/bin/sh\ntrap '' TERM\nsleep 300 &\necho $! > ${pidFile}\nwait\n`);
    await chmod(fake, 0o755);
    const bin = { path: fake, version: parseRcloneVersion("rclone v1.60.1") };
    const started = Date.now();
    const res = await runRclone(bin, { args: ["sync", "a", "b"], timeoutMs: 300, killGraceMs: 300 });
    expect(res.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(20_000);
    const grandchild = Number((await readFile(pidFile, "utf8")).trim());
    await new Promise((r) => setTimeout(r, 200));
    // Gone, or a zombie waiting for a reaper (no init process in some containers): not running either way.
    const state = await readFile(`/proc/${grandchild}/stat`, "utf8").then((t) => t.slice(t.lastIndexOf(")") + 2, t.lastIndexOf(")") + 3), () => "gone");
    expect(["gone", "Z"]).toContain(state);
  });

  it("stdin, corked for each turn of the event loop: bursts of small chunks reach rclone whole and in order", async () => {
    const bin = await findRclone();
    const dir = await mkdtemp(path.join(os.tmpdir(), "runner-"));
    const chunks: Buffer[] = [];
    for (let i = 0; i < 3000; i++) chunks.push(Buffer.from(`${String(i).padStart(6, "0")}:${"x".repeat(i % 700)}\n`));
    // Bursts of 300 chunks in one turn, turns apart; the pipe's backpressure holds most of them for a while.
    const source = Readable.from(
      (async function* () {
        for (let at = 0; at < chunks.length; at += 300) {
          for (const c of chunks.slice(at, at + 300)) yield c;
          await new Promise((r) => setImmediate(r));
        }
      })(),
      { objectMode: false },
    );
    const res = await runRclone(bin, { args: ["rcat", path.join(dir, "out.txt")], stdin: source });
    expect(res.code, res.errors.join("; ")).toBe(0);
    expect((await readFile(path.join(dir, "out.txt"))).equals(Buffer.concat(chunks))).toBe(true);
  });

  it("summarises rclone's JSON log errors and explains known ones", async () => {
    const bin = await findRclone();
    const res = await runRclone(bin, { args: ["lsjson", "nosuchremote:x"], configPath: "/dev/null" });
    expect(res.code).not.toBe(0);
    expect(res.errors.join(" ")).toMatch(/didn't find section/);
  });
});
