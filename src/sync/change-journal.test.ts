import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ChangeJournal } from "./change-journal.js";

const settle = () => new Promise((r) => setTimeout(r, 300));

describe("change journal", () => {
  it("is untrusted until the first take, then reports exactly the changed paths (nested new folders included)", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "journal-"));
    await writeFile(path.join(root, "old.txt"), "x");
    const j = new ChangeJournal(root);
    j.start();
    expect(j.take()).toBeUndefined(); // armed, but the time before arming is unknown
    await settle();
    expect([...j.take()!]).toEqual([]);
    await mkdir(path.join(root, "new/deeper"), { recursive: true });
    await writeFile(path.join(root, "new/deeper/n.txt"), "n");
    await writeFile(path.join(root, "old.txt"), "changed");
    await rm(path.join(root, "old.txt"));
    await settle();
    const seen = j.take()!;
    expect(seen.has("old.txt")).toBe(true);
    expect(seen.has("new/deeper/n.txt") || seen.has("new/deeper") || seen.has("new")).toBe(true);
    j.invalidate();
    expect(j.take()).toBeUndefined();
    j.stop();
  });

  it("overflow makes the next take untrusted", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "journal-"));
    const j = new ChangeJournal(root, 5);
    j.start();
    j.take();
    for (let i = 0; i < 20; i++) await writeFile(path.join(root, `f${i}`), "x");
    await settle();
    expect(j.take()).toBeUndefined();
    j.stop();
  });
});
