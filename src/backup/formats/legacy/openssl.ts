// Reads snapshots of the older plugin: `openssl enc -aes-256-cbc -salt -pbkdf2 -iter 100000`
// ("Salted__" + 8-byte salt; PBKDF2-HMAC-SHA256 → 32-byte key + 16-byte IV; PKCS#7 padding).
import { createDecipheriv, pbkdf2Sync } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

export class LegacyDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LegacyDecryptError";
  }
}

const WRONG_KEY = "cannot decrypt the legacy snapshot: wrong passphrase or corrupted data";

/**
 * CBC is not authenticated: a wrong passphrase still passes the final padding check about once in 256 tries.
 * `expectMagic` (the gzip header of the older plugin's `.tar.gz.enc`) catches it on the first block instead.
 */
export function createOpensslLegacyDecryptStream(passphrase: string, iterations = 100_000, expectMagic?: Buffer): Transform {
  let head = Buffer.alloc(0);
  let decipher: ReturnType<typeof createDecipheriv> | undefined;
  let plainHead: Buffer | undefined = expectMagic ? Buffer.alloc(0) : undefined;
  const emit = (stream: Transform, plain: Buffer): void => {
    if (plainHead && expectMagic) {
      plainHead = Buffer.concat([plainHead, plain]);
      if (plainHead.length < expectMagic.length) return;
      if (!plainHead.subarray(0, expectMagic.length).equals(expectMagic)) throw new LegacyDecryptError(WRONG_KEY);
      plain = plainHead;
      plainHead = undefined;
    }
    if (plain.length) stream.push(plain);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        if (!decipher) {
          head = Buffer.concat([head, chunk]);
          if (head.length < 16) return cb();
          if (head.subarray(0, 8).toString("latin1") !== "Salted__") throw new LegacyDecryptError("not an openssl-encrypted snapshot (no Salted__ header)");
          const derived = pbkdf2Sync(passphrase, head.subarray(8, 16), iterations, 48, "sha256");
          decipher = createDecipheriv("aes-256-cbc", derived.subarray(0, 32), derived.subarray(32, 48));
          chunk = head.subarray(16);
        }
        emit(this, decipher.update(chunk));
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        if (!decipher) throw new LegacyDecryptError("the legacy snapshot is truncated");
        emit(this, decipher.final());
        if (plainHead) throw new LegacyDecryptError(WRONG_KEY);
        cb();
      } catch (err) {
        cb(err instanceof LegacyDecryptError ? err : new LegacyDecryptError(WRONG_KEY));
      }
    },
  });
}
