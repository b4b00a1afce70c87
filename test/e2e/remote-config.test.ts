// rclone.conf handling through the CLI: the user's own file is used read-only; the product's own file is
// 0600 and keeps other sections; S3 misconfiguration by AWS_CA_BUNDLE is explained.
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/servers.js";
import { makeWorld } from "../support/world.js";
import { writeTree } from "../support/tree.js";
import { productConf } from "../support/remote-view.js";

describe("rclone config", () => {
  let s3: TestServer;
  beforeAll(async () => {
    s3 = await startServer("s3");
  });
  afterAll(async () => s3?.dispose());

  it("a user rclone.conf without provider block is used read-only", async () => {
    const w = await makeWorld();
    try {
      const userConf = path.join(w.root, "user-rclone.conf");
      const text = `[mys3]\n${Object.entries(s3.rcloneSection).map(([k, v]) => `${k} = ${v}`).join("\n")}\n`;
      await writeFile(userConf, text, { mode: 0o600 });
      const before = await stat(userConf);
      await w.writeConfig({ sync: { provider: "s3", mode: "mailbox", remoteName: "mys3", configPath: userConf, remotePath: `${(s3 as { bucket?: string }).bucket}/ro-test` } });
      await writeTree(w.workspace, { "a.txt": "a\n" });
      const res = await w.cli("sync");
      expect(res.code, res.stderr).toBe(0);
      expect(await readFile(userConf, "utf8")).toBe(text);
      expect((await stat(userConf)).mtimeMs).toBe(before.mtimeMs);
      await expect(stat(productConf(w.stateDir))).rejects.toThrow();
    } finally {
      await w.cleanup();
    }
  });

  it("the product's rclone.conf is 0600 and other sections in it survive", async () => {
    const w = await makeWorld({ sync: { ...s3.configBlock, mode: "mailbox", remotePath: "conf-test" } });
    try {
      await writeTree(w.workspace, { "a.txt": "a\n" });
      expect((await w.cli("sync")).code).toBe(0);
      const conf = productConf(w.stateDir);
      expect((await stat(conf)).mode & 0o777).toBe(0o600);
      await writeFile(conf, `${await readFile(conf, "utf8")}\n[users-own]\ntype = local\n`);
      expect((await w.cli("sync")).code).toBe(0);
      const text = await readFile(conf, "utf8");
      expect(text).toContain("[users-own]");
      expect(text).not.toContain("S3RVER\n[");
    } finally {
      await w.cleanup();
    }
  });

  it("AWS_CA_BUNDLE pointing at a bad bundle: exit 1 and an explanation", async () => {
    const w = await makeWorld({ sync: { ...s3.configBlock, mode: "mailbox", remotePath: "ca-test" } });
    try {
      await writeTree(w.workspace, { "a.txt": "a\n" });
      await writeFile(path.join(w.root, "bad.pem"), "not a certificate\n");
      const res = await (await import("../support/cli.js")).runCli(["sync"], { env: { ...w.env, AWS_CA_BUNDLE: path.join(w.root, "bad.pem") } });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/AWS_CA_BUNDLE/);
    } finally {
      await w.cleanup();
    }
  });
});
