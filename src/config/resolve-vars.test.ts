import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeEnv, parseDotEnv, readDotEnv, resolveVars } from "./resolve-vars.js";

describe("resolveVars", () => {
  it("fills ${VAR} in every string of the tree, leaving other values alone", () => {
    const tree = { sync: { s3: { secretAccessKey: "${KEY}" }, remotePath: "a/${SUB}/b", interval: 60, list: ["${SUB}", true] } };
    const r = resolveVars(tree, { KEY: "k3y", SUB: "x" });
    expect(r.problems).toEqual([]);
    expect(r.value).toEqual({ sync: { s3: { secretAccessKey: "k3y" }, remotePath: "a/x/b", interval: 60, list: ["x", true] } });
    expect(r.unresolved.size).toBe(0);
  });

  it("reports an unset variable with the dotted key and the variable name, never the value", () => {
    const r = resolveVars({ backup: { passphrase: "${BACKUP_PASSPHRASE}" }, exclude: ["ok", "${PAT}"] }, { OTHER: "v" });
    expect(r.problems).toEqual([
      { key: "backup.passphrase", message: expect.stringContaining("BACKUP_PASSPHRASE") },
      { key: "exclude[1]", message: expect.stringContaining("PAT") },
    ]);
    expect([...r.unresolved]).toEqual(["backup.passphrase", "exclude[1]"]);
  });

  it("treats an empty variable as unset, like OpenClaw", () => {
    const r = resolveVars({ token: "${T}" }, { T: "" });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/T is not set \(or is empty\)/);
  });

  it("never re-scans substituted text and never echoes a value", () => {
    const r = resolveVars({ a: "${A}" }, { A: "x${NOT_A_REF}y" });
    expect(r.problems).toEqual([]);
    expect(r.value).toEqual({ a: "x${NOT_A_REF}y" });
  });

  it("rejects lower-case names (the host leaves them literal) and malformed or unclosed placeholders", () => {
    const r = resolveVars({ remotePath: "${home}", mode: "${ unclosed", name: "${}" }, { home: "/h" });
    expect(r.problems.map((p) => p.key).sort()).toEqual(["mode", "name", "remotePath"]);
    expect(r.problems.find((p) => p.key === "remotePath")!.message).toMatch(/\$\{HOME\}/);
  });

  it("does not quote the text of a malformed placeholder inside a secret", () => {
    const r = resolveVars({ crypt: { password: "pre${sup3r-s3cret!}post" } }, {}, (k) => k.endsWith("password"));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.key).toBe("crypt.password");
    expect(r.problems[0]!.message).not.toContain("s3cret");
  });
});

describe(".env files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "wsync-dotenv-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses KEY=VALUE, quotes, comments and export like dotenv", () => {
    const env = parseDotEnv(
      [
        "# a comment",
        "PLAIN=value",
        "SPACED = spaced value  ",
        "export EXPORTED=yes",
        "SINGLE='single # not a comment'",
        'DOUBLE="line1\\nline2"',
        "BACK=`back`",
        "INLINE=abc # trailing comment",
        "EMPTY=",
        'MULTI="first',
        'second"',
        "COLON: colon value",
        "not a line",
        "DUP=one",
        "DUP=two",
        "",
      ].join("\r\n"),
    );
    expect(env).toEqual({
      PLAIN: "value",
      SPACED: "spaced value",
      EXPORTED: "yes",
      SINGLE: "single # not a comment",
      DOUBLE: "line1\nline2",
      BACK: "back",
      INLINE: "abc",
      EMPTY: "",
      MULTI: "first\nsecond",
      COLON: "colon value",
      DUP: "two",
    });
  });

  it("keeps escapes literal in single quotes and an unclosed quote as text", () => {
    expect(parseDotEnv("A='x\\ny'\nB=\"open\n")).toEqual({ A: "x\\ny", B: '"open' });
  });

  it("reads a file, and a missing file is empty", async () => {
    const file = path.join(dir, ".env");
    await writeFile(file, "BACKUP_PASSPHRASE=from-file\n");
    expect(await readDotEnv(file)).toEqual({ BACKUP_PASSPHRASE: "from-file" });
    expect(await readDotEnv(path.join(dir, "missing.env"))).toEqual({});
    await expect(readDotEnv(dir)).rejects.toThrow();
  });

  it("merges with the process env winning, later sources only filling gaps", () => {
    expect(mergeEnv({ A: "process", B: undefined, E: "" }, { A: "dotenv", B: "dotenv", C: "dotenv", E: "dotenv" }, { C: "config", D: "config" })).toEqual({
      A: "process",
      B: "dotenv",
      C: "dotenv",
      D: "config",
      E: "",
    });
  });
});
