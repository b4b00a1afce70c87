// One temporary folder per test run, removed when the run ends: many tests make folders under os.tmpdir() and leave
// them to the machine's cleanup, which on a developer's machine piled up by the thousand. Test workers start after
// this and inherit TMPDIR, so os.tmpdir() in every test (and in the rclone/restic it spawns) points here.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), "workspace-sync-tests-"));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    try {
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      // A mount a failed test left behind (the disk-full cases mount a tmpfs): the run's result stands.
      process.stderr.write(`could not remove the test run's temporary folder ${root}: ${(err as Error).message}\n`);
    }
  };
}
