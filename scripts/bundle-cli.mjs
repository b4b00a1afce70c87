// Bundles the standalone CLI into one file (dist/bundle/cli.js). A cron-started `workspace-sync sync` is a fresh
// process each time, and loading ~150 separate ES modules (zod alone has 95) was a quarter of an idle cycle; one
// bundled file loads in a fraction of that. The plugin keeps the per-module dist/ the host imports.
import { build } from "esbuild";

await build({
  entryPoints: ["dist/cli/main.js"],
  outfile: "dist/bundle/cli.js", // two levels below the package root, like every dist module (package.json lookups)
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  // CommonJS dependencies (commander, picomatch, json5) call require() for Node built-ins.
  banner: { js: "import { createRequire as __wsCreateRequire } from 'node:module'; const require = __wsCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
