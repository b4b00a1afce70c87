import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, BusyError } from "./lock.js";

const tmp = () => mkdtemp(path.join(os.tmpdir(), "lock-"));

describe("single-flight lock", () => {
  it("a second acquire is busy while the first holds it, and succeeds after release", async () => {
    const file = path.join(await tmp(), "x.lock");
    const a = await acquireLock(file, "a");
    await expect(acquireLock(file, "b", 100)).rejects.toBeInstanceOf(BusyError);
    await a.release();
    const b = await acquireLock(file, "b");
    await b.release();
  });

  it("takes over a lock whose owner is dead, never one whose owner lives", async () => {
    const file = path.join(await tmp(), "x.lock");
    const child = spawn("sleep", ["0.1"]);
    const pid = child.pid!;
    await new Promise((r) => child.on("exit", r));
    await writeFile(file, JSON.stringify({ pid, host: os.hostname(), purpose: "dead", since: "", nonce: "n" }));
    const lock = await acquireLock(file, "me");
    expect(JSON.parse(await readFile(file, "utf8")).purpose).toBe("me");
    await lock.release();
    // A live owner (this very process, another nonce) is respected.
    await writeFile(file, JSON.stringify({ pid: process.pid, host: os.hostname(), purpose: "alive", since: "", nonce: "z" }));
    await expect(acquireLock(file, "me", 50)).rejects.toBeInstanceOf(BusyError);
  });

  it("many concurrent acquirers: exactly one at a time", async () => {
    const file = path.join(await tmp(), "x.lock");
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const lock = await acquireLock(file, `w${i}`, 10_000);
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 20));
        inside--;
        await lock.release();
      }),
    );
    expect(maxInside).toBe(1);
  });
});
