// `workspace-sync setup`: the guided first run (src/setup/). Interactive on a terminal; `--yes` with the answers as
// flags runs it without a question.
import path from "node:path";
import type { Command } from "commander";
import type { AppContext } from "../../app/context.js";
import { mergeEnv, readDotEnv } from "../../config/index.js";
import { Asker } from "../../setup/ask.js";
import { presetsFrom } from "../../setup/flags.js";
import type { HostConfigWriter } from "../../setup/openclaw-file.js";
import { runSetup } from "../../setup/run.js";
import { clackUi, plainUi } from "../../setup/ui.js";
import { UsageError } from "../../util/errors.js";
import { readAll } from "../stdin.js";

export interface SetupCommandDeps {
  context: (cmd: Command) => Promise<AppContext>;
  /** Plugin mode: the host's config API, when it has one. */
  hostConfigWriter?: () => HostConfigWriter | undefined;
}

export async function setupCommand(cmd: Command, deps: SetupCommandDeps): Promise<void> {
  const opts = cmd.opts<Record<string, unknown>>();
  const yes = opts.yes === true;
  if (!yes && !(process.stdin.isTTY && process.stdout.isTTY)) {
    throw new UsageError("setup asks its questions on a terminal; in scripts pass --yes with the answers as flags (setup --help lists them)");
  }
  const ui = yes ? plainUi() : clackUi();
  const ctx = await deps.context(cmd);
  const dotEnv = await readDotEnv(path.join(ctx.stateDir, ".env")).catch(() => ({}));
  const ask = new Asker(ui, presetsFrom(opts), yes, mergeEnv(ctx.env, dotEnv));
  // An explicit --config names another file than the one the host manages: write that file directly.
  const hostWriter = cmd.optsWithGlobals<{ config?: string }>().config ? undefined : deps.hostConfigWriter?.();
  await runSetup({
    ctx,
    ui,
    ask,
    reload: async () => ({ ...(await deps.context(cmd)), log: ui.logger() }),
    ...(hostWriter ? { hostWriter } : {}),
    ...(!process.stdin.isTTY ? { readStdin: () => readAll(process.stdin) } : {}),
  });
}
