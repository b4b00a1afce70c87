import { describe, expect, it } from "vitest";
import { READ_AHEAD_ENTRIES, READ_AHEAD_ENTRIES_READING_ALL, readAhead, readAheadEntries } from "./read-ahead.js";
import type { WalkEntry } from "./tree-walk.js";

const entry = (i: number, transient = false): WalkEntry => ({ archivePath: `f${i}`, absPath: `/w/f${i}`, type: "file", size: i, mode: 0o644, mtimeMs: 0, ...(transient ? { transient: true } : {}) });

/** A source that records how far it was pulled, whether it was closed, and can fail at one entry. */
function source(count: number, opts: { transientAt?: number; failAt?: number } = {}) {
  const seen = { pulled: 0, closed: false };
  async function* gen(): AsyncGenerator<WalkEntry> {
    try {
      for (let i = 0; i < count; i++) {
        if (i === opts.failAt) throw new Error(`walk failed at ${i}`);
        seen.pulled = i + 1;
        yield entry(i, i === opts.transientAt);
      }
    } finally {
      seen.closed = true;
    }
  }
  return { gen: gen(), seen };
}

const settle = () => new Promise((r) => setTimeout(r, 20));
const collect = async (it: AsyncIterable<WalkEntry>) => {
  const out: string[] = [];
  for await (const e of it) out.push(e.archivePath);
  return out;
};

describe("readAhead", () => {
  it("reads ahead up to its bound before anyone consumes, then hands out every entry once, in order", async () => {
    const { gen, seen } = source(50);
    const ahead = readAhead(gen, 10);
    await settle();
    expect(seen.pulled).toBe(10);
    expect(await collect(ahead.entries)).toEqual(Array.from({ length: 50 }, (_, i) => `f${i}`));
    expect(seen.closed).toBe(true);
    await ahead.cancel();
  });

  it("stops reading ahead after a transient entry (its file goes when the next one is pulled)", async () => {
    const { gen, seen } = source(50, { transientAt: 3 });
    const ahead = readAhead(gen, 1000);
    await settle();
    expect(seen.pulled).toBe(4);
    expect((await collect(ahead.entries)).length).toBe(50);
  });

  it("a walk failure surfaces to the consumer after the entries before it, not earlier and never unhandled", async () => {
    const { gen } = source(50, { failAt: 5 });
    const ahead = readAhead(gen, 1000);
    await settle();
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const e of ahead.entries) got.push(e.archivePath);
      })(),
    ).rejects.toThrow(/walk failed at 5/);
    expect(got).toEqual(["f0", "f1", "f2", "f3", "f4"]);
  });

  it("cancel() without a consumer closes the source (a run that failed before writing)", async () => {
    const { gen, seen } = source(50);
    const ahead = readAhead(gen, 10);
    await ahead.cancel();
    expect(seen.closed).toBe(true);
    expect(seen.pulled).toBeLessThanOrEqual(10);
  });

  it("a consumer that stops early closes the source", async () => {
    const { gen, seen } = source(50);
    const ahead = readAhead(gen, 10);
    await settle();
    for await (const e of ahead.entries) if (e.archivePath === "f20") break;
    expect(seen.closed).toBe(true);
    expect(seen.pulled).toBe(21);
  });

  it("a consumer that stops among the entries read ahead (a failed write) closes the source", async () => {
    const { gen, seen } = source(50);
    const ahead = readAhead(gen, 10);
    await settle();
    await expect(
      (async () => {
        for await (const e of ahead.entries) if (e.archivePath === "f3") throw new Error("the write failed");
      })(),
    ).rejects.toThrow(/write failed/);
    expect(seen.closed).toBe(true);
    expect(seen.pulled).toBe(10);
    await ahead.cancel();
  });

  it("the entries can be consumed once", async () => {
    const ahead = readAhead(source(3).gen, 10);
    await collect(ahead.entries);
    await expect(collect(ahead.entries)).rejects.toThrow(/consumed once/);
  });

  it("reads far ahead only for a run likely to take most files from a parent; a run reading every file holds few entries", async () => {
    expect(readAheadEntries(true)).toBe(READ_AHEAD_ENTRIES);
    expect(readAheadEntries(false)).toBe(READ_AHEAD_ENTRIES_READING_ALL);
    expect(READ_AHEAD_ENTRIES_READING_ALL).toBeLessThanOrEqual(READ_AHEAD_ENTRIES / 4);
    const { gen, seen } = source(READ_AHEAD_ENTRIES_READING_ALL + 500);
    const ahead = readAhead(gen, readAheadEntries(false));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.pulled).toBe(READ_AHEAD_ENTRIES_READING_ALL);
    await ahead.cancel();
  });
});
