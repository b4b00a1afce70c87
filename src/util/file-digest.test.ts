// The helper process that hashes a file beside its reader: the real openssl gives the same digest as node:crypto, it
// sees no environment but PATH and LC_ALL, and any helper that is missing, fails, answers nonsense or is stopped
// yields "no digest", for the caller to hash the file itself.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { digestInHelper, digestOpenFile, helperSuits, helperSuitsFile, resetDigestHelper } from "./file-digest.js";

let dir: string;
let file: string;
let expected: string;
const savedPath = process.env.PATH;
const realOpenssl = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v openssl"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "ws-digest-"));
  file = path.join(dir, "object");
  const data = randomBytes(3 << 20);
  await writeFile(file, data);
  expected = createHash("sha256").update(data).digest("hex");
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  process.env.PATH = savedPath;
  delete process.env.WORKSPACE_SYNC_HASH_INLINE;
  resetDigestHelper();
});

/** A folder with an `openssl` of the test's own making first on PATH. */
async function fakeOpenssl(name: string, script: string): Promise<void> {
  const bin = path.join(dir, name);
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, "openssl"), `#!/bin/sh\n${script}\n`);
  await chmod(path.join(bin, "openssl"), 0o755);
  process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
  resetDigestHelper();
}

async function helperDigest(): Promise<string | undefined> {
  const fh = await open(file, "r");
  try {
    const helper = await digestInHelper(fh.fd);
    return helper ? await helper.digest : "none";
  } finally {
    await fh.close();
  }
}

describe("a file's SHA-256 from a helper process", () => {
  it.skipIf(!realOpenssl)("openssl's digest is node:crypto's; the helper gets only PATH and LC_ALL and no argument but the digest", async () => {
    expect(await helperDigest()).toBe(expected);
    const log = path.join(dir, "seen");
    process.env.SECRET_FOR_THE_TEST = "must-not-reach-the-helper";
    try {
      await fakeOpenssl("recording", `env > '${log}.env'\necho "$*" > '${log}.args'\nexec '${realOpenssl}' "$@"`);
      expect(await helperDigest()).toBe(expected);
    } finally {
      delete process.env.SECRET_FOR_THE_TEST;
    }
    const seen = (await readFile(`${log}.env`, "utf8")).split("\n").filter(Boolean).map((l) => l.split("=")[0]);
    expect(seen.filter((k) => !["PWD", "SHLVL", "_", "OLDPWD"].includes(k!)).sort()).toEqual(["LC_ALL", "PATH"]);
    expect((await readFile(`${log}.args`, "utf8")).trim()).toBe("dgst -sha256");
  });

  it("no openssl on PATH, or hashing kept here on purpose: no helper", async () => {
    process.env.PATH = path.join(dir, "empty");
    resetDigestHelper();
    expect(await helperDigest()).toBe("none");
    process.env.PATH = savedPath;
    resetDigestHelper();
    process.env.WORKSPACE_SYNC_HASH_INLINE = "1";
    expect(await helperDigest()).toBe("none");
  });

  it("a helper that fails, answers nonsense or a cut digest gives no digest", async () => {
    await fakeOpenssl("failing", "cat > /dev/null\necho 'SHA2-256(stdin)= " + "a".repeat(64) + "'\nexit 3");
    expect(await helperDigest()).toBeUndefined();
    await fakeOpenssl("nonsense", "cat > /dev/null\necho 'everything is fine'");
    expect(await helperDigest()).toBeUndefined();
    await fakeOpenssl("short", "cat > /dev/null\necho '(stdin)= " + "b".repeat(63) + "'");
    expect(await helperDigest()).toBeUndefined();
  });

  it("OpenSSL 1.1 and LibreSSL's answer is read too", async () => {
    await fakeOpenssl("old", `cat > /dev/null\necho '(stdin)= ${expected.toUpperCase()}'`);
    expect(await helperDigest()).toBe(expected);
  });

  it("a helper stopped by its caller ends at once with no digest", async () => {
    await fakeOpenssl("slow", "sleep 30 && echo late\nwait");
    const fh = await open(file, "r");
    try {
      const helper = (await digestInHelper(fh.fd))!;
      helper.cancel(); // the helper would sleep 30 s: the test's 5 s timeout fails it unless it ends now
      expect(await helper.digest).toBeUndefined();
    } finally {
      await fh.close();
    }
  });

  it("the fallback hashes the open file here with the same result, whatever its descriptor's offset", async () => {
    const fh = await open(file, "r");
    try {
      await fh.read(Buffer.alloc(100), 0, 100, null); // moves the offset: the fallback reads with positions
      expect(await digestOpenFile(fh, 64 << 10)).toBe(expected);
    } finally {
      await fh.close();
    }
  });
});

describe("where a helper's second read of the file is cheap", () => {
  const GiB = 2 ** 30;
  const ext4 = 0xef53;
  it("Linux, a file system of this machine, and room for the file twice in the page cache", () => {
    expect(helperSuits({ platform: "linux", size: GiB, available: 4 * GiB, fsType: ext4 })).toBe(true);
    expect(helperSuits({ platform: "linux", size: GiB, available: 4 * GiB, fsType: 0x01021994 })).toBe(true); // tmpfs
    expect(helperSuits({ platform: "linux", size: 10 * GiB, available: 2 * GiB, fsType: ext4 })).toBe(false); // read twice from the disk
    expect(helperSuits({ platform: "linux", size: GiB, available: 4 * GiB })).toBe(false); // file system unknown
    expect(helperSuits({ platform: "darwin", size: GiB, available: 4 * GiB, fsType: ext4 })).toBe(false);
  });

  it("never on a network file system or a FUSE mount (rclone mount, sshfs): the second read would be a second transfer", () => {
    for (const fsType of [0x6969, 0xff534d42, 0xfe534d42, 0x517b, 0x65735546, 0x01021997, 0x6a656a63]) {
      expect(helperSuits({ platform: "linux", size: GiB, available: 64 * GiB, fsType })).toBe(false);
    }
  });

  it.runIf(process.platform === "linux")("this machine's temporary folder qualifies for a small file", async () => {
    expect(await helperSuitsFile(file, 3 << 20)).toBe(true);
    expect(await helperSuitsFile(path.join(dir, "missing"), 3 << 20)).toBe(false);
  });
});
