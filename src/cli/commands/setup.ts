// `workspace-sync setup`: the guided first run (src/setup/). Interactive on a terminal; `--yes` with the answers as
// flags runs it without a question.
import path from "node:path";
import { mergeEnv, readDotEnv } from "../../config/index.js";
import { Asker } from "../../setup/ask.js";
import { presetsFrom } from "../../setup/flags.js";
import { runSetup } from "../../setup/run.js";
import { clackUi, plainUi } from "../../setup/ui.js";
import { FlagError } from "../../util/errors.js";
import type { Invocation } from "../invocation.js";
import { readAll } from "../stdin.js";

export async function run(inv: Invocation): Promise<void> {
  const opts = inv.opts;
  const yes = opts.yes === true;
  if (!yes && !(process.stdin.isTTY && process.stdout.isTTY)) {
    throw new FlagError("setup asks its questions on a terminal; in scripts pass --yes with the answers as flags");
  }
  const ui = yes ? plainUi({ quiet: inv.out.quiet }) : clackUi();
  const ctx = await inv.context();
  const dotEnv = await readDotEnv(path.join(ctx.stateDir, ".env")).catch(() => ({}));
  const ask = new Asker(ui, presetsFrom(opts), yes, mergeEnv(ctx.env, dotEnv));
  // An explicit --config names another file than the one the host manages: write that file directly.
  const hostWriter = inv.globals.config ? undefined : inv.deps.hostConfigWriter?.();
  await runSetup({
    ctx,
    ui,
    ask,
    reload: async () => ({ ...(await inv.context()), log: ui.logger() }),
    ...(hostWriter ? { hostWriter } : {}),
    ...(!process.stdin.isTTY ? { readStdin: () => readAll(process.stdin) } : {}),
  });
}
