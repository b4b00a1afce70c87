import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfValueError, parseConf, updateSections } from "./conf-file.js";

async function tmpConf(text?: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "conf-"));
  const file = path.join(dir, "rclone.conf");
  if (text !== undefined) await writeFile(file, text);
  return file;
}

describe("rclone.conf section updates", () => {
  it("replaces only the named section, keeps others byte-for-byte in meaning, writes 0600", async () => {
    const file = await tmpConf("[mine]\ntype = drive\ntoken = {\"a\":1}\n\n[cloud]\ntype = local\nold = x\n");
    await updateSections(file, { cloud: { type: "s3", provider: "Other" } });
    const conf = parseConf(await readFile(file, "utf8"));
    expect(conf.get("mine")).toEqual({ type: "drive", token: '{"a":1}' });
    expect(conf.get("cloud")).toEqual({ type: "s3", provider: "Other" });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("refuses values that would inject lines or sections", async () => {
    const file = await tmpConf();
    await expect(updateSections(file, { cloud: { type: "local", x: "a\n[evil]\ntype = local" } })).rejects.toBeInstanceOf(ConfValueError);
    await expect(updateSections(file, { "bad]name": { type: "local" } })).rejects.toBeInstanceOf(ConfValueError);
    await expect(updateSections(file, { cloud: { "bad key": "v" } })).rejects.toBeInstanceOf(ConfValueError);
    await expect(readFile(file)).rejects.toThrow();
  });

  it("does not rewrite an unchanged file and honours keep() for refreshed values", async () => {
    const file = await tmpConf("[cloud]\ntype = dropbox\ntoken = refreshed\n");
    const changed = await updateSections(file, { cloud: { type: "dropbox", token: "old" } }, (_s, key) => key === "token");
    expect(changed).toBe(false);
    expect(parseConf(await readFile(file, "utf8")).get("cloud")!.token).toBe("refreshed");
  });
});
