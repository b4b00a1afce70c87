// register() cost inside the real host: installs the pinned OpenClaw on demand (test/host/setup.sh), then runs
// test/host/bench-register.mjs (plugin import with the host's SDK loaded, register() in every registration mode)
// and records the figures. The host calls register() several times per process, so this must stay tiny.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { machine, repo, saveResults } from "./lib.ts";

const hostDir = path.join(repo, "test", "host");
execFileSync("bash", [path.join(hostDir, "setup.sh")], { stdio: "inherit" });
const out = execFileSync(path.join(hostDir, "node_modules", ".bin", "node"), ["./bench-register.mjs"], { cwd: hostDir }).toString();
const figures = JSON.parse(out) as {
  hostSdkImportMs: number;
  pluginImportMs: number;
  register: Record<string, { firstMs: number; medianMs: number; p99Ms: number }>;
};
const md = [
  "# register() in the real host",
  "",
  "```json",
  JSON.stringify(machine(), null, 2),
  "```",
  "",
  `Plugin import (dist/index.js, host SDK already loaded): ${figures.pluginImportMs} ms. Host SDK import (paid by the host anyway): ${figures.hostSdkImportMs} ms.`,
  "",
  "| registration mode | first call ms | median ms (500 calls) | p99 ms |",
  "|---|---|---|---|",
  ...Object.entries(figures.register).map(([mode, r]) => `| ${mode} | ${r.firstMs} | ${r.medianMs} | ${r.p99Ms} |`),
  "",
  "Goal: register() < 50 ms, side-effect free (no child process, network or file scan).",
  "",
].join("\n");
const saved = saveResults("register", { machine: machine(), ...figures }, md);
console.log(md);
console.log(`results: ${saved}.{json,md}`);
