// What the OpenClaw host loads instead of the full entry when it only needs the CLI (`openclaw --help`, building
// `openclaw workspace-sync …`): the command descriptor and the registrar, which imports the command tree only when
// the host builds it. The host finds this file beside the entry (dist/cli-metadata.js), as it does for its own plugins.
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { CLI_DESCRIPTOR, registerCliCommands } from "./plugin/cli.js";
import { PLUGIN_ENTRY } from "./plugin/entry-info.js";
import type { HostApi } from "./plugin/host-api.js";

export default definePluginEntry({
  ...PLUGIN_ENTRY,
  register(api: HostApi) {
    // The runtime getter is handed over unread: only `setup` reads it, when it writes the config.
    api.registerCli((ctx) => registerCliCommands(ctx, () => api.runtime), { descriptors: [CLI_DESCRIPTOR] });
  },
});
