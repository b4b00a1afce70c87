#!/usr/bin/env node
// Standalone CLI entry (built code lives in dist/). The compile cache keeps start-up short for cron and
// repeated runs: modules are compiled once, later runs load cached code.
//
// This file must stay parseable by old Node (nothing newer than Node 18's syntax): it is what says "this Node is
// too old" instead of failing with a syntax error, or degrading silently (no zstd, no SQLite capture).
import { existsSync } from "node:fs";
import module from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";

const NEED = [24, 16];
const have = process.versions.node.split(".").map(Number);
if (have[0] < NEED[0] || (have[0] === NEED[0] && have[1] < NEED[1])) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const ownNode = path.join(here, "..", "node_modules", "node", "bin", "node");
  const lines = [
    `workspace-sync needs Node.js ${NEED.join(".")} or newer; this is Node ${process.versions.node} (${process.execPath}).`,
    "(On older Node, backups would lose zstd compression and the consistent SQLite capture, so it does not start.)",
    "",
  ];
  if (existsSync(ownNode)) {
    lines.push(
      "This is a checkout with its own Node 24: run it through npx from the checkout, or with that Node directly:",
      `  cd ${path.join(here, "..")} && npx workspace-sync ${process.argv.slice(2).join(" ")}`.trimEnd(),
      `  ${ownNode} ${path.join(here, "workspace-sync.js")} ${process.argv.slice(2).join(" ")}`.trimEnd(),
      "",
    );
  }
  lines.push(
    "Install Node.js 24 (any one of):",
    "  with npm only (fetches Node 24 from the npm registry): npx -y -p node@24 -p openclaw-workspace-sync workspace-sync <command>",
    "  macOS (Homebrew):     brew install node@24",
    "  Debian/Ubuntu/Fedora: Node 24 packages from https://nodejs.org/en/download (NodeSource repository), or your distribution's nodejs 24",
    "  a version manager:    fnm install 24 && fnm use 24   (or: nvm install 24 && nvm use 24)",
  );
  process.stderr.write(`${lines.join("\n")}\n`);
  process.exit(2);
}

// A first backup, a restore and a verify --read-data restart once in one malloc arena (dist/cli/malloc-arena.js says
// why); other commands go on here.
if (process.argv.includes("backup")) (await import("../dist/cli/malloc-arena.js")).restartInOneArena();

if (module.enableCompileCache) module.enableCompileCache();
// A backup streams gigabytes: a young generation kept at its initial size costs it nothing measurable and keeps ~30 MiB
// of heap that V8 would otherwise grow into out of its peak memory (see docs/performance.md). Short commands (a cron
// sync) would only pay extra collections for it (~40 ms of CPU per idle cycle).
if (process.argv.slice(2).includes("backup")) v8.setFlagsFromString("--semi-space-growth-factor=1");
// One bundled file (scripts/bundle-cli.mjs) starts faster than the ~150 modules of dist/cli/main.js.
const { main } = await import("../dist/bundle/cli.js");
process.exitCode = await main(process.argv.slice(2));
