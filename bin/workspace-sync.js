#!/usr/bin/env node
// Standalone CLI entry (built code lives in dist/).
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
