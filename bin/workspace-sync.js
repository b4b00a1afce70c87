#!/usr/bin/env node
// Standalone CLI entry (built code lives in dist/). The compile cache keeps start-up short for cron and
// repeated runs: modules are compiled once, later runs load cached code.
import module from "node:module";
import v8 from "node:v8";

module.enableCompileCache?.();
// A backup streams gigabytes: a young generation kept at its initial size costs it nothing measurable and keeps ~30 MiB
// of heap that V8 would otherwise grow into out of its peak memory (see docs/performance.md). Short commands (a cron
// sync) would only pay extra collections for it (~40 ms of CPU per idle cycle).
if (process.argv.slice(2).includes("backup")) v8.setFlagsFromString("--semi-space-growth-factor=1");
// One bundled file (scripts/bundle-cli.mjs) starts faster than the ~150 modules of dist/cli/main.js.
const { main } = await import("../dist/bundle/cli.js");
process.exitCode = await main(process.argv.slice(2));
