// The slice of the OpenClaw plugin API this plugin uses, declared locally so the package builds without the host
// installed. `test/host/contract` type-checks these shapes against the real host's shipped declarations (pinned
// version): the real `OpenClawPluginApi` must be assignable to `HostApi`, so a renamed method, a changed hook
// signature or a narrowed context type fails the host suite's contract check (`npm run typecheck` in test/host; run.sh runs it) instead of failing in a user's gateway.
//
// Function members are written as properties (not methods) on purpose: TypeScript checks property-typed function
// parameters contravariantly under `strict`, method-typed ones bivariantly, and only the former catches drift.
import type { Command } from "commander";

export type RegistrationMode = "full" | "discovery" | "tool-discovery" | "setup-only" | "setup-runtime" | "cli-metadata";

export interface HostLogger {
  debug?: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

/** Host config object (openclaw.json as the host resolved it). Only the parts read here are named. */
export type HostConfig = object;

export interface CliContext {
  program: Command;
  workspaceDir?: string;
  logger: HostLogger;
}

export interface CliRegistrationOptions {
  descriptors?: readonly { name: string; description: string; hasSubcommands: boolean }[];
}

export interface ServiceContext {
  config: object;
  workspaceDir?: string;
  stateDir: string;
  logger: HostLogger;
}

export interface HostService {
  id: string;
  start: (ctx: ServiceContext) => void | Promise<void>;
  stop?: (ctx: ServiceContext) => void | Promise<void>;
}

export interface SessionHookContext {
  agentId?: string;
  sessionId: string;
  sessionKey?: string;
}
export interface SessionStartEvent {
  sessionId: string;
  sessionKey?: string;
}
export interface SessionEndEvent {
  sessionId: string;
  sessionKey?: string;
  reason?: string;
}

export interface SlashCommandContext {
  agentId?: string;
  sessionKey?: string;
  args?: string;
  commandBody: string;
  isAuthorizedSender: boolean;
}
export interface SlashCommandResult {
  text?: string;
}
export interface SlashCommand {
  name: string;
  description: string;
  acceptsArgs?: boolean;
  requireAuth?: boolean;
  handler: (ctx: SlashCommandContext) => SlashCommandResult | Promise<SlashCommandResult>;
}

export interface HeartbeatRequest {
  source: "other" | "hook";
  intent: "event";
  reason?: string;
  agentId?: string;
  sessionKey?: string;
}

/** A focused write of openclaw.json through the host (`api.runtime.config.mutateConfigFile`). */
export interface HostConfigMutation {
  /** What the gateway does after the write: "auto" lets it hot-reload or restart as the change needs. */
  afterWrite: { mode: "auto" };
  /** Edits the host's draft of the config in place. */
  mutate: (draft: object) => void;
}

/** `api.runtime`: live only in gateway/runtime modes; reading it in `cli-metadata` mode throws. */
export interface HostRuntime {
  agent: {
    resolveAgentWorkspaceDir: (cfg: HostConfig, agentId: string, env?: NodeJS.ProcessEnv) => string;
  };
  system: {
    enqueueSystemEvent: (text: string, options: { sessionKey: string; agentId?: string; contextKey?: string | null }) => boolean;
    requestHeartbeat: (options: HeartbeatRequest) => void;
  };
  state: {
    resolveStateDir: (env?: NodeJS.ProcessEnv) => string;
  };
  /** The host's config writer (used by `setup` in plugin mode); optional so older hosts still fit. */
  config?: {
    mutateConfigFile: (params: HostConfigMutation) => Promise<unknown>;
  };
}

export interface HostApi {
  id: string;
  registrationMode: RegistrationMode;
  config: object;
  pluginConfig?: Record<string, unknown>;
  runtime: HostRuntime;
  logger: HostLogger;
  registerCli: (registrar: (ctx: CliContext) => void | Promise<void>, opts?: CliRegistrationOptions) => void;
  registerService: (service: HostService) => void;
  registerCommand: (command: SlashCommand) => void;
  on: {
    (hookName: "session_start", handler: (event: SessionStartEvent, ctx: SessionHookContext) => Promise<void> | void, opts?: { timeoutMs?: number }): void;
    (hookName: "session_end", handler: (event: SessionEndEvent, ctx: SessionHookContext) => Promise<void> | void, opts?: { timeoutMs?: number }): void;
  };
}
