import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { socketLink } from "./socket-link.js";

const read = (s: NodeJS.ReadableStream) =>
  new Promise<string>((resolve, reject) => {
    let text = "";
    s.on("data", (c: Buffer) => (text += c.toString()));
    s.on("end", () => resolve(text));
    s.on("error", reject);
  });

describe("socketLink", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("connects two ends both ways and leaves nothing in the folder it used", async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), "link-test-"));
    dirs.push(parent);
    const { ours, theirs } = await socketLink(parent);
    expect(readdirSync(parent)).toEqual([]);
    ours.end("to them");
    theirs.resume(); // paused until someone reads it
    theirs.end("to us");
    const [a, b] = await Promise.all([read(ours), read(theirs)]);
    expect(a).toBe("to us");
    expect(b).toBe("to them");
  });

  it("hands the child's end to a process as stdin and stdout, and ending ours ends its input", async () => {
    const { ours, theirs } = await socketLink();
    // What is written before the child runs is not read here (the child's end is paused) but by the child.
    ours.write("written before the child started\n");
    const child = spawn("cat", [], { stdio: [theirs, theirs, "ignore"] });
    theirs.destroy(); // the child holds its own copy
    const echoed = read(ours);
    ours.end("and after\n");
    const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(await echoed).toBe("written before the child started\nand after\n");
    expect(await exit).toBe(0);
  });
});
