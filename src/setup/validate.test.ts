// A refusal at the prompt and a refusal when the config loads are the same validator, so they say the same thing.
import { describe, expect, it } from "vitest";
import { loadPluginConfig } from "../config/index.js";
import { checkBackup, checkBlock, checkSeconds, checkSync, parseRetain } from "./validate.js";

function loaderProblem(config: unknown, key: string): string | undefined {
  return loadPluginConfig(config, {}).problems.find((p) => p.key === key)?.message;
}

const sync = (extra: Record<string, unknown>) => ({ sync: { provider: "local", mode: "mailbox", local: { path: "/x" }, ...extra } });
const backup = (extra: Record<string, unknown>) => ({ ...sync({}), backup: { enabled: true, encrypt: true, passphrase: "p", ...extra } });

describe("prompt-time checks are the loader's checks", () => {
  it.each([
    ["localPath", "/etc"],
    ["localPath", "../outside"],
    ["localPath", "~/x"],
    ["remotePath", "a/../b"],
    ["interval", 30],
    ["interval", 61.5],
    ["mode", "mirrors"],
  ] as const)("sync.%s = %j", (key, value) => {
    const prompt = checkSync(key, value);
    expect(prompt).toBeDefined();
    expect(prompt).toBe(loaderProblem(sync({ [key]: value }), `sync.${key}`));
  });

  it.each([
    ["interval", 299],
    ["prefix", "../up"],
    ["recipients", ["age1short"]],
  ] as const)("backup.%s = %j", (key, value) => {
    const prompt = checkBackup(key, value);
    expect(prompt).toBeDefined();
    const problems = loadPluginConfig(backup({ [key]: value }), {}).problems;
    expect(problems.map((p) => p.message)).toContain(prompt);
  });

  it("accepts what the loader accepts", () => {
    expect(checkSync("localPath", "")).toBeUndefined();
    expect(checkSync("localPath", "shared/sub")).toBeUndefined();
    expect(checkSync("interval", 0)).toBeUndefined();
    expect(checkSync("interval", 60)).toBeUndefined();
    expect(checkBlock("local", "path", "/mnt/nas")).toBeUndefined();
    expect(checkBlock("local", "path", "nas")).toMatch(/absolute path/);
    expect(checkSeconds("300", (n) => checkSync("interval", n))).toBeUndefined();
    expect(checkSeconds("-5", (n) => checkSync("interval", n))).toMatch(/whole number of seconds/);
  });

  it("reads retention as a count or periods", () => {
    expect(parseRetain("7")).toBe(7);
    expect(parseRetain("daily=7, weekly=4")).toEqual({ daily: 7, weekly: 4 });
    expect(parseRetain("0")).toHaveProperty("error");
    expect(parseRetain("dayly=7")).toMatchObject({ error: expect.stringContaining('did you mean "daily"') });
  });
});
