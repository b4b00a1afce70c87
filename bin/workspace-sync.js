#!/usr/bin/env node
// Standalone CLI entry (built code lives in dist/). The compile cache keeps start-up short for cron and
// repeated runs: modules are compiled once, later runs load cached code.
import module from "node:module";

module.enableCompileCache?.();
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main(process.argv.slice(2));
