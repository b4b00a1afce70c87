import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AuthenticationError, EXTENSION, clampR, masterKeyFromJson, masterKeyToJson, newRandomKey, open, seal } from "./crypto.js";
import { poly1305 } from "./poly1305.js";

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

  it("computes each message's MAC key from its own nonce (the one MAC-key cipher shared by every blob stays aligned)", () => {
    // Built here from scratch per message: a fresh AES-128-ECB for AES_k(nonce), a fresh AES-256-CTR for the text.
    const key = newRandomKey();
    const other = newRandomKey();
    for (let i = 0; i < 200; i++) {
      const k = i % 3 === 0 ? other : key; // two keys interleaved: each has its own cipher
      const pt = randomBytes(i * 37);
      const sealed = seal(k, pt);
      const nonce = sealed.subarray(0, 16);
      const ct = sealed.subarray(16, sealed.length - 16);
      const ecb = createCipheriv("aes-128-ecb", k.macK, null);
      ecb.setAutoPadding(false);
      const tag = poly1305(Buffer.concat([k.macR, ecb.update(nonce)]), ct);
      expect(Buffer.from(tag).equals(sealed.subarray(sealed.length - 16))).toBe(true);
      const ctr = createDecipheriv("aes-256-ctr", k.encrypt, nonce);
      expect(Buffer.concat([ctr.update(ct), ctr.final()]).equals(pt)).toBe(true);
      if (i % 2) expect(open(k, sealed).equals(pt)).toBe(true);
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
