// Bundles the standalone CLI (dist/bundle/cli.js plus chunks loaded on use). A cron-started `workspace-sync sync` is
// a fresh process each time, and loading ~150 separate ES modules (zod alone has 95) was a quarter of an idle cycle;
// a bundle loads in a fraction of that. The plugin keeps the per-module dist/ the host imports.
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

// zod's `z` namespace re-exports its ~40 translated error-message sets (`z.locales`); building them took ~30-60 ms of
// every start-up. The product uses only the default English messages (zod imports those on its own), so the bundle
// gets an empty stand-in for the locale index.
const noZodLocales = {
  name: "no-zod-locales",
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: "export {};", loader: "js" }));
  },
};

// The password-strength estimator ships CommonJS ("main") and ESM ("module") builds but no exports map: esbuild would
// take the CommonJS one, whose named exports a dynamic import() of the split chunk does not see. Use the ESM build.
const esmZxcvbn = {
  name: "esm-zxcvbn",
  setup(b) {
    b.onResolve({ filter: /^@zxcvbn-ts\/[a-z-]+$/ }, async (args) => {
      const pkg = JSON.parse(readFileSync(path.join("node_modules", args.path, "package.json"), "utf8"));
      return { path: path.resolve("node_modules", args.path, pkg.module) };
    });
  },
};

rmSync("dist/bundle", { recursive: true, force: true }); // chunk names change with their content: no stale ones
await build({
  entryPoints: ["dist/cli/main.js"],
  // Two levels below the package root, like every dist module (package.json lookups).
  outdir: "dist/bundle",
  entryNames: "cli",
  // Code behind a dynamic import (the setup wizard, OAuth, the backup engine) goes to chunks loaded on use, and so do
  // the Node built-ins only it needs (sqlite, zlib, readline…): a sync cycle does not load them.
  splitting: true,
  chunkNames: "chunk-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  // CommonJS dependencies (commander, picomatch, json5) call require() for Node built-ins.
  banner: { js: "import { createRequire as __wsCreateRequire } from 'node:module'; const require = __wsCreateRequire(import.meta.url);" },
  plugins: [noZodLocales, esmZxcvbn],
  logLevel: "warning",
});
