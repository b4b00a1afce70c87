import { mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDotEnv } from "../config/index.js";
import { dotEnvLine, setDotEnvVars, updateDotEnv } from "./dotenv-file.js";

describe(".env writer", () => {
  it("quotes every value so dotenv reads it back unchanged", () => {
    for (const value of ["plain", "with space", "it's", 'say "hi"', "back`tick", "a#b", "$dollar ${X}", "ends with \\n literally", "=eq=", " padded "]) {
      const line = dotEnvLine("SECRET", value);
      expect(parseDotEnv(line).SECRET, line).toBe(value);
    }
    expect(() => dotEnvLine("SECRET", "two\nlines")).toThrow(/line break/);
    expect(() => dotEnvLine("SECRET", `'"\``)).toThrow(/every kind of quote/);
    expect(() => dotEnvLine("lower", "x")).toThrow(/variable name/);
  });

  it("keeps other lines and comments, replaces earlier assignments of the same names", () => {
    const before = "# gateway\nOPENAI_API_KEY=sk-1\nexport BACKUP_PASSPHRASE=old\nOTHER='x'\n";
    const after = setDotEnvVars(before, { BACKUP_PASSPHRASE: "new one", NEW_VAR: "v" });
    expect(after).toContain("# gateway\nOPENAI_API_KEY=sk-1\nOTHER='x'\n");
    expect(after).not.toContain("old");
    expect(parseDotEnv(after)).toEqual({ OPENAI_API_KEY: "sk-1", OTHER: "x", BACKUP_PASSPHRASE: "new one", NEW_VAR: "v" });
  });

  it("creates the file 0600, leaves unchanged values alone and keeps a copy when one is replaced", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "dotenv-"));
    const file = path.join(dir, ".env");
    const first = await updateDotEnv(file, { A: "1" }, "20260101T000000Z");
    expect(first.changed).toEqual(["A"]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await updateDotEnv(file, { A: "1" }, "20260101T000001Z")).changed).toEqual([]);
    await writeFile(file, `${await readFile(file, "utf8")}KEEP=me\n`);
    const replaced = await updateDotEnv(file, { A: "2" }, "20260101T000002Z");
    expect(replaced.replaced).toEqual(["A"]);
    expect(parseDotEnv(await readFile(file, "utf8"))).toEqual({ KEEP: "me", A: "2" });
    expect(parseDotEnv(await readFile(replaced.backup!, "utf8")).A).toBe("1");
    expect((await readdir(dir)).sort()).toEqual([".env", ".env.20260101T000002Z.bak"]);
  });
});
