import { chmod, mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writePluginConfig } from "./openclaw-file.js";

const JSON5_DOC = `// gateway settings
{
  gateway: { port: 18789, },
  plugins: { entries: { other: { enabled: true }, "openclaw-workspace-sync": { enabled: false, note: "mine", config: { sync: { provider: "off" } } } } },
}
`;

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "openclaw-file-"));
}

describe("writing openclaw.json", () => {
  it("keeps every other key, enables the entry, keeps a dated copy of the JSON5 original and its mode", async () => {
    const dir = await tmp();
    const file = path.join(dir, "openclaw.json");
    await writeFile(file, JSON5_DOC);
    await chmod(file, 0o640);
    const res = await writePluginConfig(file, { sync: { provider: "local" } }, { stamp: "20260101T000000Z" });
    expect(res.via).toBe("file");
    expect(res.backup).toBe(`${file}.20260101T000000Z.bak`);
    const doc = JSON.parse(await readFile(file, "utf8"));
    expect(doc.gateway).toEqual({ port: 18789 });
    expect(doc.plugins.entries.other).toEqual({ enabled: true });
    expect(doc.plugins.entries["openclaw-workspace-sync"]).toEqual({ enabled: true, note: "mine", config: { sync: { provider: "local" } } });
    expect(await readFile(res.backup!, "utf8")).toBe(JSON5_DOC);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect((await stat(res.backup!)).mode & 0o777).toBe(0o600);
    // A second run in the same second never overwrites the first copy.
    const again = await writePluginConfig(file, { sync: { provider: "off" } }, { stamp: "20260101T000000Z" });
    expect(again.backup).toBe(`${file}.20260101T000000Z-1.bak`);
  });

  it("creates a missing file (0600) without a copy", async () => {
    const file = path.join(await tmp(), "openclaw.json");
    const res = await writePluginConfig(file, { sync: { provider: "off" } });
    expect(res.backup).toBeUndefined();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8")).plugins.entries["openclaw-workspace-sync"].enabled).toBe(true);
  });

  it("refuses a file it cannot parse, writing nothing", async () => {
    const dir = await tmp();
    const file = path.join(dir, "openclaw.json");
    await writeFile(file, "{ broken: ");
    await expect(writePluginConfig(file, {})).rejects.toThrow(/not valid JSON5.*never overwrites/);
    expect(await readdir(dir)).toEqual(["openclaw.json"]);
    expect(await readFile(file, "utf8")).toBe("{ broken: ");
  });

  it("plugin mode: the host's config API does the write (after the copy is made)", async () => {
    const dir = await tmp();
    const file = path.join(dir, "openclaw.json");
    await writeFile(file, JSON5_DOC);
    const draft: Record<string, unknown> = { gateway: { port: 1 }, plugins: { entries: { other: { enabled: true } } } };
    const res = await writePluginConfig(file, { sync: { provider: "local" } }, { host: async (mutate) => mutate(draft) });
    expect(res.via).toBe("host");
    expect(res.backup).toBeDefined();
    expect(draft).toEqual({
      gateway: { port: 1 },
      plugins: { entries: { other: { enabled: true }, "openclaw-workspace-sync": { enabled: true, config: { sync: { provider: "local" } } } } },
    });
    expect(await readFile(file, "utf8")).toBe(JSON5_DOC);
  });
});
