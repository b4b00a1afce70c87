import { describe, expect, it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DirStorage } from "./backend-dir.js";
import { encodeConfig, loadConfig, newConfig, parseConfig, saveConfig } from "./config.js";
import { newRandomKey, seal } from "./crypto.js";
import { IntegrityError, UnsupportedFormatError } from "./errors.js";

describe("config", () => {
  it("writes restic's JSON exactly: field order, lowercase hex polynomial, no newline", () => {
    const cfg = { version: 2, id: "ab".repeat(32), chunkerPolynomial: 0x25b468838dcb75n };
    expect(encodeConfig(cfg)).toBe(`{"version":2,"id":"${"ab".repeat(32)}","chunker_polynomial":"25b468838dcb75"}`);
    expect(parseConfig(encodeConfig(cfg), "here")).toEqual(cfg);
  });

  it("reads version 1 and 2, refuses newer versions and bad polynomials with clear errors", () => {
    const base = { id: "cd".repeat(32), chunker_polynomial: "25b468838dcb75" };
    expect(parseConfig(JSON.stringify({ version: 1, ...base }), "x").version).toBe(1);
    expect(() => parseConfig(JSON.stringify({ version: 3, ...base }), "/repo")).toThrow(UnsupportedFormatError);
    expect(() => parseConfig(JSON.stringify({ version: 3, ...base }), "/repo")).toThrow(/format version 3, newer than this program reads \(1–2\)/);
    expect(() => parseConfig(JSON.stringify({ version: 2, ...base, chunker_polynomial: "20000000000003" }), "x")).toThrow(/not irreducible/);
    expect(() => parseConfig(JSON.stringify({ version: 2, ...base, id: "nope" }), "x")).toThrow(IntegrityError);
    expect(() => parseConfig("not json", "x")).toThrow(/not valid JSON/);
  });

  it("saves encrypted without a version byte and loads back; another key is 'damaged'", async () => {
    const storage = new DirStorage(await mkdtemp(path.join(os.tmpdir(), "repo-cfg-")));
    const key = newRandomKey();
    const cfg = newConfig();
    await saveConfig(storage, key, cfg);
    expect(await loadConfig(storage, key)).toEqual(cfg);
    await expect(loadConfig(storage, newRandomKey(), { keyId: "ee".repeat(32) })).rejects.toThrow(/does not authenticate with key keys\/eeee.*config or key is damaged/);
    await storage.save("config", "", seal(key, Buffer.from(JSON.stringify({ version: 7, id: cfg.id, chunker_polynomial: "25b468838dcb75" }))));
    await expect(loadConfig(storage, key)).rejects.toThrow(UnsupportedFormatError);
  });
});
