// Measures what the host pays for this plugin: importing dist/index.js (with the host's real plugin-entry SDK
// module) and calling register() in each registration mode. Prints figures; asserts nothing.
// Run: npm run bench (from test/host), after `npm run build` in the repository.
import { registerHooks } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

// The host resolves `openclaw/plugin-sdk/*` for plugins it loads; do the same from this folder's install.
const hostParent = pathToFileURL(path.join(import.meta.dirname, "package.json")).href;
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === "openclaw" || specifier.startsWith("openclaw/")) return next(specifier, { ...context, parentURL: hostParent });
    return next(specifier, context);
  },
});

const entryUrl = pathToFileURL(path.resolve(import.meta.dirname, "../../dist/index.js")).href;
// In the gateway the SDK module is already loaded by the host itself; load it first so the figure below is the
// plugin's own import cost.
const s0 = performance.now();
await import("openclaw/plugin-sdk/plugin-entry");
const sdkMs = performance.now() - s0;
const t0 = performance.now();
const { default: entry } = await import(entryUrl);
const importMs = performance.now() - t0;

function fakeApi(mode) {
  return {
    id: entry.id,
    registrationMode: mode,
    config: {},
    pluginConfig: {},
    get runtime() {
      throw new Error(`runtime unavailable in ${mode}`);
    },
    logger: { info() {}, warn() {}, error() {} },
    registerCli() {},
    registerService() {},
    registerCommand() {},
    on() {},
  };
}

const results = {};
for (const mode of ["cli-metadata", "discovery", "full"]) {
  const first = performance.now();
  entry.register(fakeApi(mode));
  const firstMs = performance.now() - first;
  const samples = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    entry.register(fakeApi(mode));
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  results[mode] = { firstMs: +firstMs.toFixed(3), medianMs: +samples[250].toFixed(4), p99Ms: +samples[495].toFixed(4) };
}
console.log(JSON.stringify({ node: process.version, hostSdkImportMs: +sdkMs.toFixed(1), pluginImportMs: +importMs.toFixed(1), register: results }, null, 2));
