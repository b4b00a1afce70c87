// Fault case 7: hostile names and objects in the remote _outbox (a local-folder remote: any byte sequence, any
// symlink can be planted there). The drain must write nothing outside the workspace _inbox (and its own staging),
// follow no symlink, overwrite nothing, deliver every file that can be delivered exactly once and whole, and
// report what it cannot deliver.
import { execFileSync } from "node:child_process";
import { lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTreeDetailed, sha256, startServer, stopAll, type TestServer } from "../helpers/servers.js";
import { makeWorld, type World } from "../support/world.js";

const LONG = `${"L".repeat(251)}.txt`; // 255 bytes: the longest name Linux file systems take

/** The hostile outbox: name → content (content is unique per file, so arrivals can be counted by content). */
function hostileFiles(): Record<string, string> {
  const files: Record<string, string> = {
    "normal.txt": "plain file",
    "line\nbreak.txt": "name with a line break",
    "tab\there.txt": "name with a tab",
    "esc\x1b]0;pwned\x07\x1b[31mred.txt": "name with terminal escapes",
    "del\x7f.txt": "name with DEL",
    "lit\u240aeral.txt": "name with a literal control picture",
    [LONG]: "255-byte name",
    "..foo": "dot-dot prefix",
    "foo..": "dot-dot suffix",
    "...": "three dots",
    "..../inside.txt": "inside a folder named ....",
    "a\\..\\..\\evil.txt": "backslashes are just characters here",
    "[abc].txt": "glob characters",
    "*star?.txt": "more glob characters",
    "A.txt": "upper-case A",
    "a.txt": "lower-case a (clashes with the agent's a.txt)",
    "docs/planted.txt": "would land through the agent's symlink",
    "notes/inner.txt": "would land under a file",
    ".workspace-sync/incoming/x.txt": "named like the staging folder",
    ".workspace-sync-trash/y.txt": "named like the trash",
    "_inbox/z.txt": "named like the inbox",
    " leading space.txt": "leading space",
    "trailing space.txt ": "trailing space",
  };
  return files;
}

async function plant(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), body);
  }
}

/** A file whose absolute path is longer than PATH_MAX (4096): built, and read back, one relative step at a time. */
const SEG = "d".repeat(200);
function plantTooDeep(root: string): void {
  execFileSync("bash", ["-c", `cd "$1" && for i in $(seq 1 22); do mkdir ${SEG} && cd ${SEG}; done && printf 'too deep' > deep.txt`, "_", root]);
}
function readTooDeep(root: string): string {
  return execFileSync("bash", ["-c", `cd "$1" && for i in $(seq 1 22); do cd ${SEG}; done && cat deep.txt`, "_", root], { encoding: "utf8" });
}

/** Everything outside the places the drain (or ingest) may write, for a before/after comparison. */
async function outsideView(w: World, dropFolder: string): Promise<Record<string, string>> {
  const allowed = [`state/workspace/${dropFolder}`, "state/workspace/.workspace-sync", "state/workspace-sync"];
  const tree = await readTreeDetailed(w.root, { emptyDirs: true, ignore: (rel) => allowed.some((a) => rel === a || rel.startsWith(`${a}/`)) });
  return Object.fromEntries(Object.entries(tree).map(([k, e]) => [k, `${e.type} ${e.sha256 ?? e.target ?? ""} ${e.mtimeMs}`]));
}

describe("hostile remote content in _outbox", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("local");
  });
  afterAll(async () => {
    await stopAll();
  });

  const variants = [
    { mode: "mailbox", copySymlinks: false },
    { mode: "mailbox", copySymlinks: true },
    { mode: "mirror+ingest", copySymlinks: false },
    { mode: "mirror+ingest", copySymlinks: true },
  ];
  it.each(variants)("$mode, copySymlinks $copySymlinks: nothing written outside the drop folder, no symlink followed, the rest delivered once and reported", async ({ mode, copySymlinks }) => {
    const ingest = mode !== "mailbox";
    const folder = `hostile-${mode}-${copySymlinks}`;
    const drop = ingest ? "drops" : "_inbox"; // where arrivals land in the workspace
    const sync = ingest
      ? { mode: "mirror", ingest: true, ingestPath: "drops" }
      : { mode: "mailbox" };
    const w = await makeWorld({ sync: { ...server.configBlock, ...sync, remotePath: folder, copySymlinks } });
    try {
      const outbox = path.join(server.rootDir, folder, ingest ? "drops" : "_outbox");
      const files = hostileFiles();
      await plant(outbox, files);
      const invalidUtf8 = Buffer.concat([Buffer.from(outbox + "/"), Buffer.from([0xff, 0xfe]), Buffer.from("bad.txt")]);
      await writeFile(invalidUtf8, "invalid UTF-8 name");
      plantTooDeep(outbox);

      // Targets outside the outbox that links point to, and the agent's own _inbox with traps in it.
      const outside = path.join(w.root, "outside");
      await plant(outside, { "secret.txt": "TOP SECRET", "dir/keep.txt": "outside file" });
      await symlink(path.join(outside, "secret.txt"), path.join(outbox, "escape-link"));
      await symlink(path.join(outside, "dir"), path.join(outbox, "dir-link"));
      await symlink("../../../../outside/secret.txt", path.join(outbox, "relative-link"));
      const inbox = path.join(w.workspace, drop);
      await plant(inbox, { "a.txt": "the agent's own a.txt", notes: "the agent's notes file", [LONG]: "the agent's long-named file" });
      await symlink(path.join(outside, "dir"), path.join(inbox, "docs"));
      await writeFile(path.join(w.workspace, "work.md"), "the agent's work\n");

      const before = await outsideView(w, drop);
      const res = await w.cli("sync");
      if (process.env.FAULTS_DEBUG) console.log(res.code, res.stdout, res.stderr);

      // Nothing written outside the inbox and the product's own folders; the link targets are untouched.
      expect(await outsideView(w, drop)).toEqual(before);
      expect(await readFile(path.join(outside, "secret.txt"), "utf8")).toBe("TOP SECRET");
      expect((await lstat(path.join(inbox, "docs"))).isSymbolicLink()).toBe(true);
      expect(await readlink(path.join(inbox, "docs"))).toBe(path.join(outside, "dir"));

      // Every regular file arrived exactly once, whole (counted by content), and nothing of a link target.
      const arrived = await readTreeDetailed(inbox);
      const contents = new Map<string, number>();
      for (const [rel, e] of Object.entries(arrived)) {
        if (e.type !== "file") continue;
        const body = await readFile(path.join(inbox, rel), "utf8");
        contents.set(body, (contents.get(body) ?? 0) + 1);
      }
      for (const [rel, body] of Object.entries(files)) expect(contents.get(body), `${JSON.stringify(rel)} arrived once`).toBe(1);
      expect(contents.get("TOP SECRET")).toBeUndefined();
      expect(contents.get("outside file")).toBeUndefined();
      // Clashes got new names; the agent's files are untouched.
      expect(await readFile(path.join(inbox, "a.txt"), "utf8")).toBe("the agent's own a.txt");
      expect(await readFile(path.join(inbox, "notes"), "utf8")).toBe("the agent's notes file");
      expect(await readFile(path.join(inbox, LONG), "utf8")).toBe("the agent's long-named file");
      expect(await readFile(path.join(inbox, "docs (1)", "planted.txt"), "utf8")).toBe(files["docs/planted.txt"]);
      expect(await readFile(path.join(inbox, "notes (1)", "inner.txt"), "utf8")).toBe(files["notes/inner.txt"]);

      // What could not be delivered stays in the outbox and is reported; the delivered files left it.
      const exists = (p: string | Buffer) => lstat(p).then(() => true, () => false);
      // (A mailbox moves delivered files out; an ingest only copies.)
      for (const rel of Object.keys(files)) expect(await exists(path.join(outbox, rel)), `${JSON.stringify(rel)} on the remote`).toBe(ingest);
      expect(await exists(invalidUtf8), "the file with an undecodable name stays").toBe(true);
      for (const link of ["escape-link", "dir-link", "relative-link"]) expect((await lstat(path.join(outbox, link))).isSymbolicLink()).toBe(true);
      expect(await readFile(path.join(outside, "dir", "keep.txt"), "utf8")).toBe("outside file");
      expect(readTooDeep(outbox), "the unreadable deep file stays in the outbox").toBe("too deep");
      // Reported: the file rclone cannot read fails the cycle (after the others were delivered), with a short message.
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/workspace-sync: rclone .*file name too long/);
      expect(res.stderr.length).toBeLessThan(4000);
      if (!ingest) expect(res.stderr).toMatch(/3 symlink\(s\) in the outbox are not followed/);
      // The output never carries raw control characters from remote names.
      expect(res.stdout + res.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);

      // The next cycle delivers nothing twice.
      const again = await w.cli("sync");
      expect(again.code).toBe(1);
      expect(await readTreeDetailed(inbox)).toEqual(arrived);
    } finally {
      await rm(path.join(server.rootDir, folder), { recursive: true, force: true }).catch(() => {});
      await w.cleanup();
    }
  });
});
