// A spooled pack's upload body: read into a few buffers taken back as the stream is done with each, never a fresh
// buffer per piece (their garbage once stood in a backup's peak memory); a stream that goes away ends the body.
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { writeFileBody } from "./backend.js";

async function fileOf(bytes: Buffer): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "body-")), "pack");
  await writeFile(file, bytes);
  return file;
}

describe("a file as an upload body", () => {
  it("sends every byte in order through at most four buffers, each taken back once written", async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 12_345);
    const file = await fileOf(bytes);
    const got: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        buffers.add(chunk.buffer);
        got.push(Buffer.from(chunk)); // a copy: the writer fills this buffer again once cb runs
        setImmediate(cb);
      },
    });
    const ended = new Promise((r) => sink.on("finish", r));
    await writeFileBody(sink as never, { file, size: bytes.length });
    await ended;
    expect(Buffer.concat(got).equals(bytes)).toBe(true);
    expect(got.length).toBe(Math.ceil(bytes.length / (256 * 1024)));
    expect(buffers.size).toBeLessThanOrEqual(4);
  });

  it("ends, without waiting for ever, when the stream is destroyed with its writes never taken", async () => {
    const file = await fileOf(randomBytes(4 * 1024 * 1024));
    let writes = 0;
    const sink = new Writable({
      highWaterMark: 16 * 1024 * 1024, // never asks to wait for a drain: only the buffers bound the body
      write() {
        writes++; // never calls back: no buffer is handed back (a stream stuck on its remote)
      },
    });
    sink.on("error", () => {});
    // What the request's stall watch or timeout does to a stuck stream.
    setTimeout(() => sink.destroy(), 100);
    await writeFileBody(sink as never, { file, size: 4 * 1024 * 1024 });
    expect(writes).toBe(1); // the Writable takes one write at a time; the body stopped at its 4 buffers
    expect(sink.destroyed).toBe(true);
  });
});
