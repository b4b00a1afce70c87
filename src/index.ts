// OpenClaw plugin entry (package.json openclaw.extensions → dist/index.js). Only wires definePluginEntry; every
// concern lives in its own module under src/plugin/. The host loads dist/cli-metadata.js instead when it only needs
// the CLI.
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { PLUGIN_ENTRY } from "./plugin/entry-info.js";
import { registerWorkspaceSync } from "./plugin/register.js";

export default definePluginEntry({
  ...PLUGIN_ENTRY,
  register: registerWorkspaceSync,
});
