import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { createOpensslLegacyDecryptStream, LegacyDecryptError } from "./openssl.js";

const GZIP = Buffer.from([0x1f, 0x8b]);

async function decrypt(input: Buffer, pass: string, magic?: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      out.push(c);
      cb();
    },
  });
  await pipeline(Readable.from([input.subarray(0, 7), input.subarray(7)]), createOpensslLegacyDecryptStream(pass, undefined, magic), sink);
  return Buffer.concat(out);
}

describe("legacy openssl snapshots", () => {
  it("decrypts what `openssl enc -aes-256-cbc -salt -pbkdf2 -iter 100000` wrote", async () => {
    // The older plugin always encrypted a .tar.gz: the gzip magic makes a wrong passphrase certain to fail
    // (CBC padding alone lets one wrong key in 256 through).
    const data = gzipSync(randomBytes(300_001));
    const enc = execFileSync("openssl", ["enc", "-aes-256-cbc", "-salt", "-pbkdf2", "-iter", "100000", "-pass", "env:P"], { input: data, env: { ...process.env, P: "old secret" }, maxBuffer: 16 << 20 });
    expect((await decrypt(enc, "old secret", GZIP)).equals(data)).toBe(true);
    expect((await decrypt(enc, "old secret")).equals(data)).toBe(true);
    for (const wrong of ["wrong", "old secreT", "", "another wrong one"]) {
      await expect(decrypt(enc, wrong, GZIP)).rejects.toBeInstanceOf(LegacyDecryptError);
    }
    await expect(decrypt(Buffer.from("not encrypted at all"), "x")).rejects.toThrow(/Salted__/);
  });
});
