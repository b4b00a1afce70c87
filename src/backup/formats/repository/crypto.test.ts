import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AuthenticationError, EXTENSION, clampR, masterKeyFromJson, masterKeyToJson, newRandomKey, open, seal } from "./crypto.js";

describe("restic crypto (AES-256-CTR + Poly1305-AES)", () => {
  it("round-trips and adds exactly 32 bytes", () => {
    const key = newRandomKey();
    for (const n of [0, 1, 15, 16, 17, 1000, 1 << 20]) {
      const pt = randomBytes(n);
      const sealed = seal(key, pt);
      expect(sealed.length).toBe(n + EXTENSION);
      expect(open(key, sealed).equals(pt)).toBe(true);
    }
  });

  it("uses a fresh nonce per message", () => {
    const key = newRandomKey();
    const a = seal(key, Buffer.from("same"));
    const b = seal(key, Buffer.from("same"));
    expect(a.subarray(0, 16).equals(b.subarray(0, 16))).toBe(false);
  });

  it("rejects any flipped bit (MAC over the ciphertext, nonce bound through AES_k(nonce))", () => {
    const key = newRandomKey();
    const sealed = seal(key, randomBytes(100));
    for (const at of [0, 15, 16, 60, sealed.length - 17, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 1;
      expect(() => open(key, bad)).toThrow(AuthenticationError);
    }
    expect(() => open(newRandomKey(), sealed)).toThrow(AuthenticationError);
    expect(() => open(key, sealed.subarray(0, 31))).toThrow(AuthenticationError);
  });

  it("refuses an all-zero nonce and all-zero keys", () => {
    const key = newRandomKey();
    const sealed = seal(key, Buffer.from("x"));
    sealed.fill(0, 0, 16);
    expect(() => open(key, sealed)).toThrow(/nonce/);
    expect(() => seal({ ...key, macR: Buffer.alloc(16) }, Buffer.from("x"))).toThrow(/all-zero/);
    expect(() => seal({ ...key, encrypt: Buffer.alloc(32) }, Buffer.from("x"))).toThrow(/all-zero/);
  });

  it("clamps r and keeps the master-key JSON in restic's shape", () => {
    expect(clampR(Buffer.alloc(16, 0xff)).toString("hex")).toBe("ffffff0ffcffff0ffcffff0ffcffff0f");
    const key = newRandomKey();
    const json = masterKeyToJson(key);
    expect(Object.keys(JSON.parse(json) as object)).toEqual(["mac", "encrypt"]);
    const back = masterKeyFromJson(json);
    expect(back.encrypt.equals(key.encrypt) && back.macK.equals(key.macK) && back.macR.equals(key.macR)).toBe(true);
    // An unclamped r (as newer restic stores it) authenticates the same.
    const r = Buffer.from(key.macR);
    r[3]! |= 0xf0;
    r[4]! |= 0x03;
    const unclamped = { ...key, macR: r };
    expect(open(unclamped, seal(key, Buffer.from("hello"))).toString()).toBe("hello");
  });
});
