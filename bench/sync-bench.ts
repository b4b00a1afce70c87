// Sync benchmark: a 40,000-file workspace, mailbox mode, on the local backend, sftp and the S3 server.
// Side by side: rclone's own no-change `rclone sync`, our idle cycle (fresh CLI process), and a
// 1-file-change cycle. Wall times are medians of 3; S3 requests counted by a proxy in front of s3rver.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { rcloneEnv, startServer, type TestServer } from "../test/helpers/servers.ts";
import { binPath, countingProxy, machine, median, run, saveResults, timed, workDir } from "./lib.ts";

const FILES = Number(process.env.BENCH_FILES ?? 40_000);
const RUNS = 3;
const kinds = (process.env.BENCH_BACKENDS ?? "local,sftp,s3").split(",") as ("local" | "sftp" | "s3")[];

function makeWorkspace(dir: string): void {
  const marker = path.join(dir, `.bench-${FILES}`);
  if (existsSync(marker)) return;
  mkdirSync(dir, { recursive: true });
  const perDir = 200;
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / perDir)).padStart(3, "0")}`);
    if (i % perDir === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `f${i}.txt`), `file ${i}\n`.repeat(1 + (i % 50)));
  }
  writeFileSync(marker, "");
}

interface Row {
  backend: string;
  rcloneNoChangeMs: number;
  rcloneNoChangeRequests?: number;
  idleCycleMs: number;
  idleCycleRequests?: number;
  oneFileChangeMs: number;
  oneFileChangeRequests?: number;
  initialSyncMs: number;
}

async function benchBackend(kind: "local" | "sftp" | "s3", workspace: string): Promise<Row> {
  const server: TestServer = await startServer(kind);
  const proxy = kind === "s3" ? await countingProxy(server.port) : undefined;
  try {
    const block = JSON.parse(JSON.stringify(server.configBlock)) as { s3?: { endpoint: string } };
    if (proxy && block.s3) block.s3.endpoint = `http://127.0.0.1:${proxy.port}`;
    const stateDir = path.join(workDir, `state-${kind}-${Date.now()}`);
    mkdirSync(stateDir, { recursive: true });
    const config = { plugins: { entries: { "openclaw-workspace-sync": { config: { sync: { ...block, mode: "mailbox", remotePath: "bench" } } } } } };
    writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config));
    const env = { ...rcloneEnv(), OPENCLAW_STATE_DIR: stateDir };
    const cli = () => run(process.execPath, [binPath, "sync", "-q", "--workspace", workspace], env);

    const initial = await timed(cli);
    if (initial.value.code !== 0) throw new Error(`initial sync failed: ${initial.value.stderr}`);
    const conf = path.join(stateDir, "workspace-sync", "rclone.conf");
    const dest = kind === "local" ? `cloud:${server.remoteRoot}/bench` : kind === "s3" ? `cloud:${server.remoteRoot}/bench` : "cloud:bench";
    const rcloneArgs = ["sync", workspace, dest, "--config", conf, "--exclude", "/_inbox/**", "--exclude", "/_outbox/**", "--exclude", "/.workspace-sync/**", "--exclude", "/.workspace-sync-trash/**", "--exclude", "/.bench-*"];
    if (kind === "s3") rcloneArgs.push("--fast-list", "--checksum");

    const sample = async (fn: () => Promise<unknown>, before?: () => void) => {
      const ms: number[] = [];
      const reqs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        before?.();
        proxy?.reset();
        ms.push((await timed(fn)).ms);
        if (proxy) reqs.push(proxy.count());
      }
      return { ms: median(ms), requests: proxy ? median(reqs) : undefined };
    };
    const rcloneOwn = await sample(() => run("rclone", rcloneArgs, env));
    const idle = await sample(async () => {
      const r = await cli();
      if (r.code !== 0) throw new Error(r.stderr);
    });
    let n = 0;
    const change = await sample(
      async () => {
        const r = await cli();
        if (r.code !== 0) throw new Error(r.stderr);
      },
      () => writeFileSync(path.join(workspace, "d000", "f0.txt"), `changed ${n++} ${Date.now()}\n`),
    );
    return {
      backend: kind,
      initialSyncMs: Math.round(initial.ms),
      rcloneNoChangeMs: Math.round(rcloneOwn.ms),
      rcloneNoChangeRequests: rcloneOwn.requests,
      idleCycleMs: Math.round(idle.ms),
      idleCycleRequests: idle.requests,
      oneFileChangeMs: Math.round(change.ms),
      oneFileChangeRequests: change.requests,
    };
  } finally {
    proxy?.close();
    await server.dispose();
  }
}

// The harness's server processes are unref'd; keep the event loop alive while benchmarks await them.
const keepAlive = setInterval(() => {}, 1 << 30);
const workspace = path.join(workDir, `workspace-${FILES}`);
console.log(`generating ${FILES} files …`);
makeWorkspace(workspace);
const rows: Row[] = [];
for (const kind of kinds) {
  console.log(`backend ${kind} …`);
  rows.push(await benchBackend(kind, workspace));
  console.log(rows.at(-1));
}
const fmt = (v: number | undefined) => (v === undefined ? "–" : String(v));
const md = [
  `# Sync benchmark (${FILES} files, mailbox mode)`,
  "",
  "```json",
  JSON.stringify(machine(), null, 2),
  "```",
  "",
  "| backend | initial sync ms | rclone no-change sync ms (requests) | our idle cycle ms (requests) | 1-file change ms (requests) |",
  "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.backend} | ${r.initialSyncMs} | ${r.rcloneNoChangeMs} (${fmt(r.rcloneNoChangeRequests)}) | ${r.idleCycleMs} (${fmt(r.idleCycleRequests)}) | ${r.oneFileChangeMs} (${fmt(r.oneFileChangeRequests)}) |`),
  "",
].join("\n");
const saved = saveResults("sync", { machine: machine(), files: FILES, rows }, md);
console.log(md);
console.log(`results: ${saved}.{json,md}`);
clearInterval(keepAlive);
process.exit(0);
