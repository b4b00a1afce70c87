// The write gates on a real local folder: writes wait for the repository to exist and for holds (a backup's lock);
// lock files wait only for the repository; reads never wait; a failed gate fails what waits for it.
import { mkdtemp, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirStorage } from "./backend-dir.js";
import { GatedStorage } from "./gated-storage.js";

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const tick = () => new Promise((r) => setTimeout(r, 20));
const ID = (c: string) => c.repeat(64);

describe("GatedStorage", () => {
  it("holds every write until the repository exists, lock files until then only, the rest until the holds end", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "gated-"));
    const inner = new DirStorage(root);
    await inner.create();
    const created = deferred();
    const lock = deferred();
    const gated = new GatedStorage(inner, created.promise);
    const endHold = gated.hold(lock.promise);
    const order: string[] = [];
    const lockSaved = gated.save("locks", ID("a"), Buffer.from("l")).then(() => order.push("lock"));
    const dataSaved = gated.save("data", ID("b"), Buffer.from("d")).then(() => order.push("data"));
    const staged = gated.stage("data");
    staged?.append(Buffer.from("staged pack"));
    const stagedDone = staged?.commit("data", ID("c")).then(() => order.push("staged"));
    await tick();
    expect(order).toEqual([]);
    expect(await gated.list("locks")).toEqual([]); // reads pass straight through
    created.resolve();
    await lockSaved;
    await tick();
    expect(order).toEqual(["lock"]);
    lock.resolve();
    await Promise.all([dataSaved, stagedDone]);
    expect(order.slice(1).sort()).toEqual(staged ? ["data", "staged"] : ["data"]);
    endHold();
    // A hold that ended is gone: a later hold that never settles only holds what comes after it.
    const never = gated.hold(new Promise(() => {}));
    never();
    await gated.save("index", ID("d"), Buffer.from("i"));
    expect((await readdir(path.join(root, "index"))).length).toBe(1);
  });

  it("fails the writes waiting for a gate that fails, with its error, and writes nothing", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "gated-"));
    const inner = new DirStorage(root);
    await inner.create();
    const created = deferred();
    const gated = new GatedStorage(inner, created.promise);
    const saving = gated.save("data", ID("e"), Buffer.from("d"));
    const lockSaving = gated.save("locks", ID("f"), Buffer.from("l"));
    created.reject(new Error("key derivation failed"));
    await expect(saving).rejects.toThrow("key derivation failed");
    await expect(lockSaving).rejects.toThrow("key derivation failed");
    expect(await gated.list("data")).toEqual([]);
    expect(await gated.list("locks")).toEqual([]);

    const ok = new GatedStorage(inner);
    const failedLock = Promise.reject(new Error("locked by another process"));
    const end = ok.hold(failedLock);
    await expect(ok.remove("data", ID("e"))).rejects.toThrow("locked by another process");
    end();
    await ok.remove("data", ID("e")); // the hold is over: writes go through again
  });
});
