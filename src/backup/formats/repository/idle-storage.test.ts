import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { IdleClosingStorage } from "./idle-storage.js";

/** A local folder that counts how often its transport was closed (per folder: an earlier test's wrapper may still close its own late). */
class CountingStorage extends DirStorage {
  closed = 0;
  override async close(): Promise<void> {
    this.closed++;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A repository folder behind an idle-closing wrapper that closes after 20 ms idle, and the folder that counts closes. */
async function idleFolder(): Promise<{ storage: IdleClosingStorage; inner: CountingStorage }> {
  const root = await mkdtemp(path.join(os.tmpdir(), "idle-"));
  const inner = new CountingStorage(root);
  await inner.create();
  return { storage: new IdleClosingStorage(() => inner, root, { idleMs: 20 }), inner };
}

describe("IdleClosingStorage", () => {
  it("keeps the transport that staged a file open until the file is committed, then closes it once idle", async () => {
    const { storage, inner } = await idleFolder();
    const staged = storage.stage("data")!;
    staged.append(Buffer.from("pack bytes"));
    await pause(80);
    expect(inner.closed).toBe(0);
    await staged.commit("data", "ab".repeat(32));
    await pause(80);
    expect(inner.closed).toBe(1);
    expect((await storage.load("data", "ab".repeat(32))).toString()).toBe("pack bytes");
  });

  it("a discarded staged file lets the transport close too (and discarding twice is harmless)", async () => {
    const { storage, inner } = await idleFolder();
    const staged = storage.stage("data")!;
    await pause(60);
    expect(inner.closed).toBe(0);
    await staged.discard();
    await staged.discard();
    await pause(80);
    expect(inner.closed).toBe(1);
  });
});
