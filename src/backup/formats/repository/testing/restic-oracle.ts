// Test-only (imported by *.test.ts, never by the product).
// The real `restic` binary as a test oracle for the repository format's pure encoders (chunker, trees, nodes):
// a throwaway local repository, `restic backup` of a directory, and the exact bytes restic wrote.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface ResticRepo {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs restic against the repository; rejects with its stderr on failure. */
  run(args: string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv; encoding?: "buffer" }): Promise<Buffer>;
  text(args: string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<string>;
  polynomial(): Promise<string>;
  /** `restic backup .` inside `dir` (the snapshot's root tree is the directory's own tree); the root tree ID. */
  backup(dir: string, env?: NodeJS.ProcessEnv): Promise<{ snapshotId: string; tree: string }>;
  /** The plaintext of a blob (exactly the bytes restic hashed). */
  blob(type: "tree" | "data", id: string): Promise<Buffer>;
  tree(id: string): Promise<{ bytes: Buffer; nodes: Array<Record<string, unknown>> }>;
  close(): void;
}

export async function initResticRepo(): Promise<ResticRepo> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "restic-oracle-"));
  const repoPath = path.join(dir, "repo");
  // No secret of the product: a throwaway repository's password, in the child's environment only.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, RESTIC_REPOSITORY: repoPath, RESTIC_PASSWORD: "oracle", RESTIC_CACHE_DIR: path.join(dir, "cache") };
  const run = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
    new Promise<Buffer>((resolve, reject) => {
      execFile("restic", ["--no-cache", ...args], { cwd: opts.cwd, env: { ...env, ...opts.env }, encoding: "buffer", maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`restic ${args.join(" ")}: ${err.message}\n${stderr.toString()}`));
        else resolve(stdout);
      });
    });
  await run(["init", "--repository-version", "2", "-q"]);
  const repo: ResticRepo = {
    dir,
    env,
    run,
    text: async (args, opts) => (await run(args, opts)).toString("utf8"),
    polynomial: async () => JSON.parse(await repo.text(["cat", "config"])).chunker_polynomial as string,
    backup: async (target, extraEnv) => {
      const out = await repo.text(["backup", "--json", "-q", "--host", "oracle", "."], { cwd: target, env: extraEnv });
      const summary = out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.message_type === "summary");
      if (!summary) throw new Error(`restic backup printed no summary:\n${out}`);
      const snapshotId = String(summary.snapshot_id);
      const snap = JSON.parse(await repo.text(["cat", "snapshot", snapshotId])) as { tree: string };
      return { snapshotId, tree: snap.tree };
    },
    blob: (_type, id) => run(["cat", "blob", id]),
    tree: async (id) => {
      const bytes = await repo.blob("tree", id);
      return { bytes, nodes: (JSON.parse(bytes.toString("utf8")) as { nodes: Array<Record<string, unknown>> }).nodes };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
  return repo;
}
