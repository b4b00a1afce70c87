// Writes openclaw.plugin.json from the built code (src/plugin/manifest.ts): the config schema from the zod schemas,
// the CLI and slash-command metadata from the code that registers them. Run: npm run manifest
import { writeFileSync } from "node:fs";
import { manifestText } from "../dist/plugin/manifest.js";

writeFileSync(new URL("../openclaw.plugin.json", import.meta.url), manifestText());
console.log("openclaw.plugin.json written");
