// Minimal ambient declaration of the one host SDK import the entry needs, so the package builds without the host
// installed (openclaw is an optional peer). The real declarations are checked by the host suite's contract step (`npm run typecheck` in test/host)
// (test/host/contract), which compiles src/index.ts against the pinned host instead of this file.
declare module "openclaw/plugin-sdk/plugin-entry" {
  export interface PluginEntryOptions<Api> {
    id: string;
    name: string;
    description: string;
    register: (api: Api) => void;
  }
  export function definePluginEntry<Api>(options: PluginEntryOptions<Api>): PluginEntryOptions<Api> & { configSchema: unknown };
}
