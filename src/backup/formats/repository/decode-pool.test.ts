import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { newRandomKey } from "./crypto.js";
import { inlineDecoder, workerDecoder, workerFile } from "./decode-pool.js";
import { IntegrityError } from "./errors.js";
import { hashId } from "./ids.js";
import { encodeBlob, PackWriter } from "./pack.js";
import { smallFileWriter } from "../../restore/file-writers.js";

// The worker runs the built module (npm test builds first); the sources alone have no worker file.
const built = path.resolve(import.meta.dirname, "../../../../dist/backup/formats/repository/decode-worker.js");

function pack(blobs: Buffer[]) {
  const key = newRandomKey();
  const w = new PackWriter(key, "data");
  for (const b of blobs) {
    const e = encodeBlob(key, b, true);
    w.add(hashId(b), e.sealed, e.uncompressedLength);
  }
  const p = w.finalize();
  return { key, id: p.id, bytes: Buffer.concat(p.parts), blobs: p.blobs };
}

describe.skipIf(!existsSync(built))("blob decoding on a worker thread", () => {
  it("hands back every blob of a read, verified, the same as decoding inline; damage is an IntegrityError naming the pack", async () => {
    const text = Buffer.from("compressible line\n".repeat(50_000));
    const p = pack([randomBytes(300_000), text, Buffer.alloc(0), randomBytes(10)]);
    const worker = workerDecoder(p.key, { file: built });
    try {
      const inline = await Promise.all(inlineDecoder(p.key).decode(p.id, p.bytes, 0, p.blobs));
      const off = await Promise.all(worker.decode(p.id, Buffer.from(p.bytes), 0, p.blobs));
      expect(off.map((b) => hashId(b))).toEqual(inline.map((b) => hashId(b)));
      expect(off[1]!.equals(text)).toBe(true);
      // A read that starts inside the pack, and a flipped byte in its second blob.
      const part = Buffer.from(p.bytes.subarray(p.blobs[1]!.offset, p.blobs[3]!.offset + p.blobs[3]!.length));
      part[p.blobs[2]!.offset - p.blobs[1]!.offset - 5]! ^= 1; // last bytes of blob 1 (its MAC)
      const answers = worker.decode(p.id, part, p.blobs[1]!.offset, p.blobs.slice(1));
      const err = await answers[0]!.then(() => undefined, (e: unknown) => e as IntegrityError);
      expect(err).toBeInstanceOf(IntegrityError);
      expect(err!.message).toContain(`in pack data/${p.id.slice(0, 2)}/${p.id}`);
      expect((await answers[1]!).length).toBe(0);
      expect((await answers[2]!).length).toBe(10);
    } finally {
      worker.close();
    }
  });

  it("its thread also writes a restore's small files, and ends only once both the decoder and the file writer are done", async () => {
    const p = pack([randomBytes(1000), randomBytes(2000)]);
    const decoder = workerDecoder(p.key, { file: built });
    const dir = mkdtempSync(path.join(os.tmpdir(), "ws-decode-files-"));
    try {
      const port = decoder.filePort!();
      expect(port).toBeDefined();
      const files = smallFileWriter({ port: port! });
      expect(files.threaded).toBe(true);
      const [a, b] = await Promise.all(decoder.decode(p.id, Buffer.from(p.bytes), 0, p.blobs));
      // Decoding and writing interleave on the one thread; the decoder closes first, as a restore's reader does.
      const written = [files.write({ dest: path.join(dir, "a"), mode: 0o644, atCreate: true }, a!), files.write({ dest: path.join(dir, "b"), mode: 0o600, atCreate: false }, b!)];
      decoder.close();
      await Promise.all(written);
      expect(readFileSync(path.join(dir, "a")).length).toBe(1000);
      expect(statSync(path.join(dir, "b")).mode & 0o777).toBe(0o600);
      await expect(files.write({ dest: path.join(dir, "a"), mode: 0o644, atCreate: true }, Buffer.from("again"))).rejects.toMatchObject({ code: "EEXIST" });
      await files.close();
      expect(decoder.filePort!()).toBeUndefined(); // closed: a later restore would start its own
    } finally {
      decoder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the bundled CLI finds the worker's module (a restore would otherwise decode inline, slower but unnoticed)", () => {
    const bundle = path.resolve(import.meta.dirname, "../../../../dist/bundle");
    const chunks = readdirSync(bundle).filter((f) => f.endsWith(".js") && readFileSync(path.join(bundle, f), "utf8").includes("decode-worker.js"));
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) expect(workerFile(pathToFileURL(path.join(bundle, chunk)).href)).toBe(built);
  });

  it("falls back to decoding inline when the worker cannot start", async () => {
    const p = pack([randomBytes(1000)]);
    const d = workerDecoder(p.key, { file: "/nonexistent/decode-worker.js" });
    try {
      const [b] = await Promise.all(d.decode(p.id, p.bytes, 0, p.blobs));
      expect(b!.length).toBe(1000);
    } finally {
      d.close();
    }
  });
});
