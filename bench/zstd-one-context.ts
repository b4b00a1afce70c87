// Prototype for the restore's read path (bench only, measured in restore-bench.ts as "lib: new writer + one zstd
// context"): src/backup/zstd-frames.ts decodes each 1 MiB frame with a new zlib decompressor, and those contexts
// and their 1 MiB output buffers are freed only by a full collection — on data set (a) that alone is ~60 MiB of
// peak RSS and many mark-compacts. Here one decompressor decodes every frame: Node's zstd stream continues with
// the next frame when a write starts at a frame boundary (it only drops what follows a frame end *inside* one
// write), so the stream is cut at frame ends exactly as zstd-frames.ts cuts it; and garbage collection is paced
// by the decoded bytes (a minor collection every 8 MiB), where the output buffers are made.
import { Transform, type TransformCallback } from "node:stream";
import v8 from "node:v8";
import vm from "node:vm";
import zlib from "node:zlib";

const MIB = 1 << 20;
const FRAME_MAGIC = 0xfd2fb528;
const isSkippable = (magic: number) => magic >>> 4 === 0x184d2a5;

/** Frame boundaries without decompressing (the same walk as zstd-frames.ts's FrameScanner, condensed). */
class FrameCutter {
  private skip = 0;
  private state: "magic" | "skippable-size" | "header" | "block" | "checksum" = "magic";
  private head: number[] = [];
  private need = 4;
  private lastBlock = false;
  private checksum = false;

  *segments(chunk: Buffer): Generator<Buffer> {
    let pos = 0;
    let start = 0;
    while (pos < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        this.skip -= n;
        pos += n;
        if (this.skip === 0 && this.afterSkip()) {
          yield chunk.subarray(start, pos);
          start = pos;
        }
        continue;
      }
      while (this.head.length < this.need && pos < chunk.length) this.head.push(chunk[pos++]!);
      if (this.head.length < this.need) continue;
      if (this.parse() && this.skip === 0) {
        yield chunk.subarray(start, pos);
        start = pos;
      }
    }
    if (start < chunk.length) yield chunk.subarray(start);
  }

  get atBoundary(): boolean {
    return this.state === "magic" && this.head.length === 0 && this.skip === 0;
  }

  private parse(): boolean {
    const h = Buffer.from(this.head);
    this.head = [];
    switch (this.state) {
      case "magic": {
        const magic = h.readUInt32LE(0);
        if (isSkippable(magic)) {
          this.state = "skippable-size";
          this.need = 4;
          return false;
        }
        if (magic !== FRAME_MAGIC) throw new Error("not zstd data (bad frame magic)");
        this.state = "header";
        this.need = 1;
        return false;
      }
      case "skippable-size":
        this.skip = h.readUInt32LE(0);
        this.state = "magic";
        this.need = 4;
        return this.skip === 0;
      case "header": {
        if (h.length === 1) {
          const fhd = h[0]!;
          const single = (fhd >> 5) & 1;
          const rest = (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + [single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
          this.checksum = !!((fhd >> 2) & 1);
          if (rest > 0) {
            this.head = [...h];
            this.need = 1 + rest;
            return false;
          }
        }
        this.state = "block";
        this.need = 3;
        return false;
      }
      case "block": {
        const b = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        this.lastBlock = !!(b & 1);
        this.skip = ((b >> 1) & 3) === 1 ? 1 : b >>> 3;
        this.need = 3;
        return this.skip === 0 ? this.afterSkip() : false;
      }
      case "checksum":
        this.state = "magic";
        this.need = 4;
        return true;
    }
  }

  private afterSkip(): boolean {
    if (this.state === "magic") return true;
    if (!this.lastBlock) return false;
    if (this.checksum) {
      this.state = "checksum";
      this.need = 4;
      return false;
    }
    this.state = "magic";
    this.need = 4;
    return true;
  }
}

function collector(): ((o: { type: "minor" | "major" }) => void) | undefined {
  v8.setFlagsFromString("--expose-gc");
  const fn: unknown = vm.runInNewContext("gc");
  return typeof fn === "function" ? (fn as (o: { type: "minor" | "major" }) => void) : undefined;
}

export function createOneContextZstdDecompressor(): Transform {
  const cutter = new FrameCutter();
  const gc = collector();
  let decoded = 0;
  let nextMinor = 8 * MIB;
  let nextMajor = 64 * MIB;
  const d = zlib.createZstdDecompress({ chunkSize: MIB });
  const done = new Promise<void>((resolve, reject) => {
    d.on("end", resolve);
    d.on("error", reject);
  });
  done.catch(() => {});
  const write = (bytes: Buffer) => new Promise<void>((resolve, reject) => d.write(bytes, (err) => (err ? reject(err) : resolve())));
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      void (async () => {
        for (const seg of cutter.segments(chunk)) await Promise.race([write(seg), done]);
      })().then(() => cb(), (err: Error) => cb(err));
    },
    flush(cb: TransformCallback) {
      d.end();
      done.then(() => cb(cutter.atBoundary ? null : new Error("the zstd data is truncated (it ends inside a frame)")), cb);
    },
  });
  d.on("data", (out: Buffer) => {
    decoded += out.length;
    if (gc && decoded >= nextMinor) {
      nextMinor = decoded + 8 * MIB;
      if (decoded >= nextMajor) {
        nextMajor = decoded + 64 * MIB;
        gc({ type: "major" });
      } else gc({ type: "minor" });
    }
    if (!t.push(out)) d.pause();
  });
  const read = t._read.bind(t);
  t._read = (size: number) => {
    d.resume();
    read(size);
  };
  return t;
}
