#!/usr/bin/env node
// Standalone CLI entry (built code lives in dist/). The compile cache keeps start-up short for cron and
// repeated runs: modules are compiled once, later runs load cached code.
import module from "node:module";
import v8 from "node:v8";

module.enableCompileCache?.();
// This process only streams: a young generation that stays at its initial size costs nothing measurable and keeps
// ~30 MiB of heap that V8 would otherwise grow into out of a backup's peak memory (see docs/performance.md).
v8.setFlagsFromString("--semi-space-growth-factor=1");
// One bundled file (scripts/bundle-cli.mjs) starts faster than the ~150 modules of dist/cli/main.js.
const { main } = await import("../dist/bundle/cli.js");
process.exitCode = await main(process.argv.slice(2));
