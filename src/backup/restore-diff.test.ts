import { mkdtemp, mkdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { idleGate } from "../util/idle-gate.js";
import { compareWithLive, type LayoutItem, liveSignatures, signatureOf } from "./restore-diff.js";

const T = new Date("2026-02-03T04:05:06Z");
const sig = (type: "file" | "symlink", size: number, when = T, linkTarget?: string) =>
  signatureOf({ type, size, mtimeMs: when.getTime(), ...(linkTarget !== undefined ? { linkTarget } : {}) });

describe("restore-diff", () => {
  let root: string;
  let live: string;
  let layout: LayoutItem[];
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "restore-diff-"));
    live = path.join(root, "ws");
    await mkdir(path.join(live, "dir"), { recursive: true });
    await mkdir(path.join(live, "cache"), { recursive: true });
    for (const [rel, body] of [["a.txt", "aaa"], ["dir/b.txt", "bb"], ["cache/c.bin", "c"], ["x.sqlite-wal", "w"], ["new.txt", "n"]] as const) {
      await writeFile(path.join(live, rel), body);
      await utimes(path.join(live, rel), T, T);
    }
    await symlink("a.txt", path.join(live, "ln"));
    layout = [{ item: "workspace", path: "workspace", livePath: live }];
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("walks the live side with the excludes, never the journal files a backup leaves out", async () => {
    const sigs = await liveSignatures(layout, ["cache/**"]);
    expect([...sigs.get(layout[0]!)!.keys()].sort()).toEqual(["workspace/a.txt", "workspace/dir/b.txt", "workspace/ln", "workspace/new.txt"]);
    expect(sigs.get(layout[0]!)!.get("workspace/a.txt")).toBe(sig("file", 3));
  });

  it("walks through an idle gate to the same picture (a gate opened midway included)", async () => {
    for (let i = 0; i < 600; i++) await writeFile(path.join(live, "dir", `f${i}.txt`), "x"); // past GATE_EVERY entries
    const plain = await liveSignatures(layout, ["cache/**"]);
    expect(await liveSignatures(layout, ["cache/**"], [], undefined, { gate: idleGate() })).toEqual(plain);
    const gate = idleGate();
    const walked = liveSignatures(layout, ["cache/**"], [], undefined, { gate });
    gate.hurry();
    expect(await walked).toEqual(plain);
  });

  it("leaves out the restore's staging folder inside a live location", async () => {
    const staging = path.join(live, ".workspace-sync-restore-1-x");
    await mkdir(staging);
    await writeFile(path.join(staging, "half-written"), "x");
    const sigs = await liveSignatures(layout, [], [staging]);
    expect([...sigs.get(layout[0]!)!.keys()].some((p) => p.includes("workspace-sync-restore"))).toBe(false);
    expect(sigs.get(layout[0]!)!.has("workspace/cache/c.bin")).toBe(true);
  });

  it("stops walking when told (a restore that failed does not wait for the live side)", async () => {
    await expect(liveSignatures(layout, [], [], AbortSignal.abort())).rejects.toThrow();
  });

  it("sorts the restored copy into same, changed, only in the snapshot and only live", async () => {
    const liveSigs = await liveSignatures(layout, ["cache/**"]);
    const lsig = (await import("node:fs")).lstatSync(path.join(live, "ln"));
    const restored = new Map([
      ["workspace/a.txt", sig("file", 3)],
      ["workspace/dir/b.txt", sig("file", 5)], // another size
      ["workspace/ln", signatureOf({ type: "symlink", size: 0, mtimeMs: lsig.mtimeMs, linkTarget: "a.txt" })],
      ["workspace/gone.txt", sig("file", 1)],
      ["workspace/cache/old.bin", sig("file", 9)], // held by the snapshot, excluded since: on neither side
    ]);
    expect(compareWithLive(layout, restored, liveSigs, ["cache/**"], () => true)).toEqual({
      same: 2,
      changed: ["workspace/dir/b.txt"],
      onlyInSnapshot: ["workspace/gone.txt"],
      onlyLive: ["workspace/new.txt"],
    });
  });

  it("counts live files only within the selection", async () => {
    const liveSigs = await liveSignatures(layout, ["cache/**"]);
    const restored = new Map([["workspace/dir/b.txt", sig("file", 2)]]);
    const inDir = (p: string) => p.startsWith("workspace/dir");
    expect(compareWithLive(layout, restored, liveSigs, ["cache/**"], inDir)).toEqual({ same: 1, changed: [], onlyInSnapshot: [], onlyLive: [] });
    expect(compareWithLive(layout, restored, liveSigs, ["cache/**"], () => true).onlyLive.sort()).toEqual(["workspace/a.txt", "workspace/ln", "workspace/new.txt"]);
  });

  it("prunes an excluded folder for every path below it, as the walk does", () => {
    const restored = new Map([["workspace/cache/deep/er/x.bin", sig("file", 1)], ["workspace/keep/cache.txt", sig("file", 1)]]);
    const summary = compareWithLive(layout, restored, new Map([[layout[0]!, new Map()]]), ["cache/**"], () => true);
    expect(summary.onlyInSnapshot).toEqual(["workspace/keep/cache.txt"]);
  });
});
