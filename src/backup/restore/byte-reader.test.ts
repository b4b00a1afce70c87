import { describe, expect, it } from "vitest";
import { freeHandedOver, handOver } from "../../util/release-buffer.js";
import { ByteReader } from "./byte-reader.js";

async function* from(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

const own = (text: string) => {
  const b = Buffer.allocUnsafeSlow(text.length);
  b.write(text, "latin1");
  return b;
};

describe("ByteReader", () => {
  it("reads exact spans, pieces and skips across chunk boundaries", async () => {
    const r = new ByteReader(from([Buffer.from("abcd"), Buffer.from("efgh"), Buffer.from("ij")]));
    expect((await r.exact(3))?.toString()).toBe("abc");
    expect((await r.exact(3))?.toString()).toBe("def"); // spans two chunks: a copy
    expect((await r.piece(10))?.toString()).toBe("gh"); // a piece never spans chunks
    expect(await r.skip(1)).toBe(1);
    expect((await r.piece(10))?.toString()).toBe("j");
    expect(await r.piece(1)).toBeUndefined();
    expect(r.offset).toBe(10);
  });

  it("frees a handed-over chunk once it moved past it and every piece cut from it was freed", async () => {
    const first = handOver(own("HEADERaaaabbbb"));
    const second = handOver(own("cccc"));
    const kept = own("dddd"); // not handed over: never freed here
    const r = new ByteReader(from([first, second, kept]));
    const header = await r.exact(6);
    const a = await r.piece(4);
    const b = await r.piece(4);
    expect([header?.toString(), a?.toString(), b?.toString()]).toEqual(["HEADER", "aaaa", "bbbb"]);
    freeHandedOver(a!);
    const c = await r.piece(10); // moves on to the second chunk
    expect(first.length).toBe(14); // b is not freed yet
    freeHandedOver(b!);
    expect(first.length).toBe(0);
    expect(header?.toString()).toBe("HEADER"); // what exact() returned was a copy: still readable
    freeHandedOver(c!);
    expect(second.length).toBe(4); // the reader is still in it
    const d = await r.piece(10);
    expect(second.length).toBe(0);
    freeHandedOver(d!);
    expect(await r.piece(1)).toBeUndefined();
    expect([kept.length, d?.toString()]).toEqual([4, "dddd"]);
  });

  it("the last handed-over chunk is freed when the stream ends; one whose piece is never freed is left to the collector", async () => {
    const a = handOver(own("xxxx"));
    const b = handOver(own("yyyy"));
    const r = new ByteReader(from([a, b]));
    const x = await r.piece(4);
    const y = await r.piece(4);
    freeHandedOver(y!);
    expect(await r.piece(1)).toBeUndefined();
    expect([a.length, b.length, x?.toString()]).toEqual([4, 0, "xxxx"]);
  });
});
