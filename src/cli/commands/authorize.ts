// `workspace-sync authorize [--provider P]`: OAuth sign-in for dropbox, gdrive or onedrive through `rclone authorize`
// (or a token pasted from another computer), stored in the product's rclone.conf section of every configured remote
// of that provider. Other sections and their tokens are never touched.
import type { AppContext } from "../../app/context.js";
import { assertValid, rcloneFor } from "../../app/context.js";
import { resolveBackupRemote } from "../../app/backup-job.js";
import type { RemoteSpec } from "../../config/types.js";
import { resolveRemote } from "../../rclone/remotes.js";
import { type AuthorizeMethod, keepToken, obtainToken, type TokenTarget, tokenTarget } from "../../setup/authorize-flow.js";
import { isOAuthProvider, OAUTH_PROVIDERS, type OAuthProvider } from "../../setup/catalog.js";
import { clackUi, plainUi } from "../../setup/ui.js";
import { defaultRcloneConf } from "../../state/paths.js";
import { FlagError } from "../../util/errors.js";
import type { Invocation } from "../invocation.js";
import { readAll } from "../stdin.js";

export interface AuthorizeFlags {
  provider?: string;
  paste?: boolean;
  browser?: boolean;
  remoteName?: string;
}

function targetsFor(ctx: AppContext, provider: OAuthProvider, remoteName: string | undefined): { targets: TokenTarget[]; configured: boolean } {
  const conf = defaultRcloneConf(ctx.stateDir);
  const targets: TokenTarget[] = [];
  const add = (t: TokenTarget | undefined) => {
    if (t && !targets.some((x) => x.sectionName === t.sectionName && x.remote.configPath === t.remote.configPath)) targets.push(t);
  };
  const { sync, backup } = ctx.config;
  if (sync?.remote.provider === provider) add(tokenTarget("sync", sync.remote, resolveRemote(sync.remote, sync.remotePath, conf)));
  if (backup?.remote.provider === provider) add(tokenTarget("backup", backup.remote, resolveBackupRemote(ctx, backup)));
  const configured = targets.length > 0;
  if (remoteName) {
    const chosen = targets.filter((t) => t.sectionName === remoteName);
    if (chosen.length) return { targets: chosen, configured };
  }
  if (!configured) {
    // Before setup: the section the config will use (sync's default name), so `setup` or a hand-written config finds it.
    const spec: RemoteSpec = { provider, remoteName: remoteName ?? "cloud", [provider]: {} };
    add(tokenTarget("sync", spec, resolveRemote(spec, "", conf)));
  }
  return { targets, configured };
}

export async function run(inv: Invocation): Promise<void> {
  const flags = inv.opts as AuthorizeFlags;
  const ctx = await inv.context();
  assertValid(ctx);
  const fromConfig = [ctx.config.sync?.remote.provider, ctx.config.backup?.remote.provider].find(isOAuthProvider);
  const provider = flags.provider ?? fromConfig;
  if (!provider) {
    throw new FlagError("nothing to authorize: no dropbox, gdrive or onedrive remote is configured; pass --provider dropbox|gdrive|onedrive");
  }
  if (!isOAuthProvider(provider)) throw new FlagError(`--provider must be one of ${Object.keys(OAUTH_PROVIDERS).join(", ")} (other providers use keys, not a sign-in)`);
  const { targets, configured } = targetsFor(ctx, provider, flags.remoteName);
  const interactive = !!(process.stdin.isTTY && process.stderr.isTTY);
  const ui = interactive ? clackUi() : plainUi({ quiet: inv.out.quiet });
  const bin = await rcloneFor(ctx);
  let method: AuthorizeMethod = flags.paste ? "paste" : "browser";
  if (interactive && !flags.paste) {
    method = await ui.select<AuthorizeMethod>({
      message: "Is there a web browser on this machine?",
      options: [
        { value: "browser", label: "Yes: sign in here", hint: "rclone authorize opens it" },
        { value: "paste", label: "No (a server)", hint: "run rclone authorize on another computer and paste the token" },
      ],
      initial: "browser",
    });
  }
  const first = targets[0]!;
  const token = await obtainToken(first, {
    ui,
    bin,
    env: ctx.env,
    method,
    ...(flags.browser === false ? { noBrowser: true } : {}),
    ...(!process.stdin.isTTY ? { readStdin: () => readAll(process.stdin) } : {}),
  });
  if (!token) return;
  for (const t of targets) await keepToken(t, token, { ui });
  if (!configured) {
    ui.info(`No ${provider} remote is configured yet: \`workspace-sync setup\` (provider ${provider}) uses this sign-in, or add "provider": "${provider}" and "${provider}": {} to the sync settings.`);
  }
}
