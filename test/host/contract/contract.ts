// Drift guard between the plugin's local view of the host API (src/plugin/host-api.ts) and the real host.
// Each line fails to compile when the pinned openclaw changes what the plugin relies on.
import type {
  OpenClawPluginApi,
  OpenClawPluginCommandDefinition,
  OpenClawPluginService,
  OpenClawPluginServiceContext,
  PluginCommandContext,
} from "openclaw/plugin-sdk/plugin-entry";
import cliEntry from "../../../src/cli-metadata.js";
import entry from "../../../src/index.js";
import type { HostApi, HostService, ServiceContext, SlashCommand, SlashCommandContext } from "../../../src/plugin/host-api.js";

// Everything the plugin calls on `api` exists on the real API with compatible signatures (hooks included).
export const apiFits = (api: OpenClawPluginApi): HostApi => api;
// What the plugin hands to the host is what the host accepts.
export const serviceFits = (service: HostService): OpenClawPluginService => service;
export const commandFits = (command: SlashCommand): OpenClawPluginCommandDefinition => command;
// What the host passes in carries what the plugin reads.
export const serviceContextFits = (ctx: OpenClawPluginServiceContext): ServiceContext => ctx;
export const commandContextFits = (ctx: PluginCommandContext): SlashCommandContext => ctx;
// The default export is a host plugin entry whose register() accepts the real API.
export const entryFits: { id: string; name: string; register: (api: OpenClawPluginApi) => void } = entry;
// The CLI-only entry the host loads for CLI metadata is a host plugin entry too.
export const cliEntryFits: { id: string; name: string; register: (api: OpenClawPluginApi) => void } = cliEntry;
