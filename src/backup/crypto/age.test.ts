import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable, type Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { claimHandedOver, handOver } from "../../util/release-buffer.js";
import { AgeError, createAgeDecryptStream, createAgeEncryptStream, generateIdentity, parseIdentityFile, recipientOf } from "./index.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "age-"));
const SIZES = [0, 1, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 7];

async function through(stream: Transform, input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // Feed in odd-sized pieces to exercise chunk boundaries.
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += 10_007) pieces.push(input.subarray(i, i + 10_007));
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  await pipeline(Readable.from(pieces), stream, sink);
  return Buffer.concat(chunks);
}

/** Runs the age CLI with a passphrase typed at its terminal prompt (age reads passphrases only from a tty). */
function agePty(args: string[], passphrase: string): void {
  const cmd = ["age", ...args].map((a) => `'${a}'`).join(" ");
  const res = spawnSync("script", ["-qec", cmd, "/dev/null"], { input: `${passphrase}\n${passphrase}\n`, timeout: 60_000 });
  if (res.status !== 0) throw new Error(`age ${args.join(" ")} failed: ${res.stdout}${res.stderr}`);
}

describe("age format", () => {
  it("round-trips every size with a passphrase and with recipients", async () => {
    const id = generateIdentity();
    for (const size of SIZES) {
      const data = randomBytes(size);
      const enc1 = await through(createAgeEncryptStream({ passphrase: "pw", scryptWorkFactor: 10 }), data);
      expect((await through(createAgeDecryptStream({ passphrase: "pw" }), enc1)).equals(data)).toBe(true);
      const enc2 = await through(createAgeEncryptStream({ recipients: [id.recipient] }), data);
      expect((await through(createAgeDecryptStream({ identities: [id.identity] }), enc2)).equals(data)).toBe(true);
    }
  });

  it("interoperates with the age CLI using X25519 keys, both ways", async () => {
    const keyFile = path.join(tmp, "key.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
    const identities = parseIdentityFile(readFileSync(keyFile, "utf8"));
    const recipient = recipientOf(identities[0]!);
    expect(readFileSync(keyFile, "utf8")).toContain(recipient);
    for (const size of SIZES) {
      const data = randomBytes(size);
      const ours = await through(createAgeEncryptStream({ recipients: [recipient] }), data);
      writeFileSync(path.join(tmp, "ours.age"), ours);
      expect(execFileSync("age", ["-d", "-i", keyFile, path.join(tmp, "ours.age")], { maxBuffer: 64 << 20 }).equals(data)).toBe(true);
      writeFileSync(path.join(tmp, "plain"), data);
      const theirs = execFileSync("age", ["-r", recipient, path.join(tmp, "plain")], { maxBuffer: 64 << 20 });
      expect((await through(createAgeDecryptStream({ identities }), theirs)).equals(data)).toBe(true);
    }
  });

  it("interoperates with `age -p` (passphrase through a pty), both ways", async () => {
    const data = randomBytes(200_000);
    const pass = "correct horse battery staple";
    writeFileSync(path.join(tmp, "p-plain"), data);
    agePty(["-p", "-o", path.join(tmp, "p-theirs.age"), path.join(tmp, "p-plain")], pass);
    const theirs = readFileSync(path.join(tmp, "p-theirs.age"));
    expect((await through(createAgeDecryptStream({ passphrase: pass }), theirs)).equals(data)).toBe(true);
    writeFileSync(path.join(tmp, "p-ours.age"), await through(createAgeEncryptStream({ passphrase: pass }), data));
    agePty(["-d", "-o", path.join(tmp, "p-out"), path.join(tmp, "p-ours.age")], pass);
    expect(readFileSync(path.join(tmp, "p-out")).equals(data)).toBe(true);
  });

  it("wrong key, truncation, flipped bytes and trailing data are distinct, clear errors", async () => {
    const data = randomBytes(200_000);
    const enc = await through(createAgeEncryptStream({ passphrase: "pw", scryptWorkFactor: 10 }), data);
    const code = async (input: Buffer, pass = "pw") => {
      try {
        await through(createAgeDecryptStream({ passphrase: pass }), input);
        return "ok";
      } catch (err) {
        expect(err).toBeInstanceOf(AgeError);
        return (err as AgeError).code;
      }
    };
    expect(await code(enc)).toBe("ok");
    expect(await code(enc, "wrong")).toBe("AGE_WRONG_KEY");
    const headerEnd = enc.indexOf("\n---") + 50;
    expect(await code(enc.subarray(0, headerEnd + 16 + 65_552))).toBe("AGE_TRUNCATED"); // cut at a chunk boundary
    expect(await code(enc.subarray(0, enc.length - 100))).toBe("AGE_CORRUPT"); // cut mid-chunk
    expect(await code(enc.subarray(0, 20))).toBe("AGE_TRUNCATED");
    const flipped = Buffer.from(enc);
    flipped[enc.length - 5000]! ^= 1;
    expect(await code(flipped)).toBe("AGE_CORRUPT");
    const headerFlip = Buffer.from(enc);
    headerFlip[30]! ^= 1;
    expect(["AGE_WRONG_KEY", "AGE_HEADER"]).toContain(await code(headerFlip));
    expect(await code(Buffer.concat([enc, Buffer.from("trailing")]))).not.toBe("ok");
  });

  it("large reads are opened into 256 KiB pieces: exact contents at every size, a flipped byte inside a piece fails", async () => {
    const id = generateIdentity();
    const run = async (sealed: Buffer, readSize: number) => {
      const reads: Buffer[] = [];
      for (let i = 0; i < sealed.length; i += readSize) reads.push(Buffer.from(sealed.subarray(i, i + readSize)));
      const out: Buffer[] = [];
      const sink = new Writable({
        write(c: Buffer, _e, cb) {
          out.push(Buffer.from(c));
          cb();
        },
      });
      await pipeline(Readable.from(reads), createAgeDecryptStream({ identities: [id.identity] }), sink);
      return out;
    };
    for (const size of [0, 4 * 65_536, 4 * 65_536 + 1, 9 * 65_536 + 5, 3 * 1024 * 1024 + 7]) {
      const plain = randomBytes(size);
      const sealed = await through(createAgeEncryptStream({ recipients: [id.recipient] }), plain);
      for (const readSize of [1 << 20, sealed.length || 1]) {
        const out = await run(sealed, readSize);
        expect(Buffer.concat(out).equals(plain), `${size} in reads of ${readSize}`).toBe(true);
        expect(Math.max(0, ...out.map((o) => o.length))).toBeLessThanOrEqual(4 * 65_536);
        if (size > 5 * 65_536) expect(out.some((o) => o.length === 4 * 65_536)).toBe(true);
      }
    }
    // A byte flipped in the second chunk (inside the first 256 KiB piece): the read fails as corrupt.
    const plain = randomBytes(9 * 65_536);
    const sealed = await through(createAgeEncryptStream({ recipients: [id.recipient] }), plain);
    const bad = Buffer.from(sealed);
    bad[sealed.length - 7 * (65_536 + 16) - 100]! ^= 1;
    await expect(run(bad, 1 << 20)).rejects.toMatchObject({ code: "AGE_CORRUPT" });
  });

  it("decrypting frees each stored piece handed over once all of it was read, hands its own output on, and frees nothing else", async () => {
    const id = generateIdentity();
    const plain = randomBytes(5 * 64 * 1024 + 333);
    const sealed = await through(createAgeEncryptStream({ recipients: [id.recipient] }), plain);
    // Pieces with memory of their own, as a file read gives them; every third one is not handed over.
    const pieces: Buffer[] = [];
    for (let i = 0; i < sealed.length; i += 50_000) {
      const own = Buffer.allocUnsafeSlow(Math.min(50_000, sealed.length - i));
      sealed.copy(own, 0, i);
      pieces.push(pieces.length % 3 === 2 ? own : handOver(own));
    }
    const sizes = pieces.map((p) => p.length);
    const out: Buffer[] = [];
    let handedOn = 0;
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        if (claimHandedOver(c)) handedOn++;
        out.push(Buffer.from(c));
        cb();
      },
    });
    await pipeline(Readable.from(pieces), createAgeDecryptStream({ identities: [id.identity] }), sink);
    expect(Buffer.concat(out).equals(plain)).toBe(true);
    expect(handedOn).toBeGreaterThanOrEqual(5);
    expect(pieces.map((p) => p.length)).toEqual(sizes.map((n, i) => (i % 3 === 2 ? n : 0)));
  });

  it("throughput (figure only, no assertion)", async () => {
    const id = generateIdentity();
    const data = randomBytes(64 << 20);
    const t = performance.now();
    const enc = await through(createAgeEncryptStream({ recipients: [id.recipient] }), data);
    const t2 = performance.now();
    await through(createAgeDecryptStream({ identities: [id.identity] }), enc);
    const t3 = performance.now();
    console.log(`age encrypt ${(64 / ((t2 - t) / 1000)).toFixed(0)} MiB/s, decrypt ${(64 / ((t3 - t2) / 1000)).toFixed(0)} MiB/s`);
  });
});
