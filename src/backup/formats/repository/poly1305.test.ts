import { randomBytes } from "node:crypto";
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305.js";
import { describe, expect, it } from "vitest";
import { poly1305 } from "./poly1305.js";
import { POLY1305_WASM_BASE64 } from "./poly1305-wasm.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const key = (r: string, s: string) => Buffer.concat([hex(r), hex(s)]);
const ZERO16 = "00".repeat(16);

describe("poly1305 (WebAssembly)", () => {
  it("matches RFC 8439 §2.5.2", () => {
    const k = hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
    expect(poly1305(k, Buffer.from("Cryptographic Forum Research Group")).toString("hex")).toBe("a8061dc1305136c6c22b8baf0c0127a9");
  });

  // RFC 8439 appendix A.3: the edge cases of the final reduction mod 2^130-5.
  it.each([
    ["#1 zero key", key(ZERO16, ZERO16), hex("00".repeat(64)), ZERO16],
    ["#5", key("02" + "00".repeat(15), ZERO16), hex("ff".repeat(16)), "03" + "00".repeat(15)],
    ["#6", key("02" + "00".repeat(15), "ff".repeat(16)), hex("02" + "00".repeat(15)), "03" + "00".repeat(15)],
    ["#7", key("01" + "00".repeat(15), ZERO16), hex("ff".repeat(16) + "f0" + "ff".repeat(15) + "11" + "00".repeat(15)), "05" + "00".repeat(15)],
    ["#8", key("01" + "00".repeat(15), ZERO16), hex("ff".repeat(16) + "fb" + "fe".repeat(15) + "01".repeat(16)), ZERO16],
    ["#9", key("02" + "00".repeat(15), ZERO16), hex("fd" + "ff".repeat(15)), "fa" + "ff".repeat(15)],
  ])("matches RFC 8439 A.3 %s", (_name, k, msg, tag) => {
    expect(poly1305(k, msg).toString("hex")).toBe(tag);
  });

  it("agrees with @noble/ciphers on random keys and lengths, however the message is split", () => {
    for (let i = 0; i < 300; i++) {
      const k = randomBytes(32);
      const len = i < 100 ? i : Math.floor(Math.random() * 200_000);
      const msg = randomBytes(len);
      const want = Buffer.from(noblePoly1305(msg, k)).toString("hex");
      expect(poly1305(k, msg).toString("hex")).toBe(want);
      const cut = Math.floor(Math.random() * (len + 1));
      expect(poly1305(k, msg.subarray(0, cut), msg.subarray(cut)).toString("hex")).toBe(want);
    }
  });

  it("is the module compiled from poly1305.wat (regenerate with poly1305-wasm.build.mjs)", async () => {
    // @ts-expect-error plain ESM build helper without types
    const { compilePoly1305Wat } = (await import("./poly1305-wasm.build.mjs")) as { compilePoly1305Wat(): Promise<string> };
    expect(await compilePoly1305Wat()).toBe(POLY1305_WASM_BASE64);
  });
});
