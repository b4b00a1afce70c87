// `npm run bench`: runs every benchmark in turn (each prints its figures and writes bench/results/).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const benches = ["sync-bench.ts", "backup-bench.ts", "restore-bench.ts", "register-bench.ts", "chunker-bench.ts", "repository-restore-bench.ts", "repository-bench.ts"].filter((b) => !only || b.startsWith(only));
for (const bench of benches) {
  console.log(`\n=== ${bench} ===`);
  const res = spawnSync(process.execPath, [path.join(here, bench)], { stdio: "inherit" });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
