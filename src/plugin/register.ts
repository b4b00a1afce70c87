// register(api): wiring only. Side-effect free and cheap — the host calls it several times per process in
// different modes (cli-metadata for `openclaw --help`, discovery/inspection, full in the gateway); nothing here
// starts a timer, spawns a process, touches the network or the disk. `api.runtime` is read only later, inside the
// service, because in cli-metadata mode merely reading it throws.
import { CLI_DESCRIPTOR, registerCliCommands } from "./cli.js";
import { slashCommands } from "./commands.js";
import type { HostApi } from "./host-api.js";
import { sessionHandlers } from "./hooks.js";
import { serviceRegistration } from "./service.js";

export function registerWorkspaceSync(api: HostApi): void {
  // The runtime getter is handed over unread: only `setup` reads it, when it writes the config.
  api.registerCli((ctx) => registerCliCommands(ctx, () => api.runtime), { descriptors: [CLI_DESCRIPTOR] });
  if (api.registrationMode === "cli-metadata") return;

  api.registerService(serviceRegistration(api));
  const hooks = sessionHandlers(api.logger);
  api.on("session_start", hooks.sessionStart);
  api.on("session_end", hooks.sessionEnd);
  for (const command of slashCommands()) api.registerCommand(command);
}
