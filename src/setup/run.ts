// The setup flow, the same for the wizard and the flags form: rclone check → answers → sign-in → connectivity check →
// config written (.env for secrets, a copy of the previous openclaw.json kept) → dry-run preview of the first sync and
// a confirmation → first sync → first backup.
import path from "node:path";
import type { AppContext } from "../app/context.js";
import { buildBackupJob, resolveBackupRemote } from "../app/backup-job.js";
import { buildSyncJob } from "../app/sync-job.js";
import { runBackup } from "../backup/index.js";
import { describeBackup } from "../report/backup.js";
import { loadPluginConfig, mergeEnv, PLUGIN_CONFIG_KEY, readDotEnv, type PluginConfig } from "../config/index.js";
import type { RcloneBinary } from "../rclone/binary.js";
import { readConf } from "../rclone/conf-file.js";
import { describeCycle } from "../report/sync.js";
import { checkReachable } from "../rclone/reach.js";
import { resolveRemote, type ResolvedRemote, writeRemoteSections } from "../rclone/remotes.js";
import { runRclone, summarizeFailure } from "../rclone/runner.js";
import { defaultRcloneConf, productDir } from "../state/paths.js";
import { runSyncCycle } from "../sync/engine.js";
import { OperationError, UsageError } from "../util/errors.js";
import type { Asker } from "./ask.js";
import { secretVars, toPluginConfig } from "./answers.js";
import { type AuthorizeMethod, authorizeTarget, hasToken, type TokenTarget, tokenTarget } from "./authorize-flow.js";
import { PROVIDER_LABEL } from "./catalog.js";
import { updateDotEnv } from "./dotenv-file.js";
import { assertReadable, currentPluginConfig, fileStamp, type HostConfigWriter, keepCopy, writePluginConfig } from "./openclaw-file.js";
import { askAnswers } from "./questions.js";
import { checkRclone } from "./rclone-check.js";
import type { Ui } from "./ui.js";
import { configProblems } from "./validate.js";

export interface SetupDeps {
  ctx: AppContext;
  ui: Ui;
  ask: Asker;
  /** The context again after the config was written (same location flags), for the first sync and backup. */
  reload: () => Promise<AppContext>;
  /** Plugin mode: the host's config API (undefined: openclaw.json is written directly). */
  hostWriter?: HostConfigWriter;
  readStdin?: () => Promise<string>;
}

interface Remotes {
  config: PluginConfig;
  sync?: ResolvedRemote;
  backup?: ResolvedRemote;
}

async function ensureRclone(d: SetupDeps): Promise<RcloneBinary> {
  const cacheFile = path.join(productDir(d.ctx.stateDir), "rclone-version.json");
  for (;;) {
    const found = await checkRclone(d.ctx.config.rclonePath, d.ctx.env.PATH, cacheFile);
    if (found.ok) {
      d.ui.success(`rclone ${found.bin.version.raw} (${found.bin.path})`);
      return found.bin;
    }
    if (d.ask.scripted || !d.ui.interactive) throw new UsageError(`${found.error}; ${found.advice}`);
    d.ui.note(`${found.error}\n\nThe sync and the backups run through rclone: ${found.advice}`, "rclone is needed");
    if (!(await d.ui.confirm({ message: "Check again (after installing it in another terminal)?", initial: true }))) {
      throw new OperationError(`rclone is needed: ${found.advice}`);
    }
  }
}

/** The answers' config, validated by the loader exactly as a later run will load it. */
function resolveAnswers(d: SetupDeps, pluginConfig: Record<string, unknown>, env: NodeJS.ProcessEnv): Remotes {
  const problems = configProblems(pluginConfig, env);
  if (problems.length) {
    throw new UsageError(`these answers make a config that would not load:\n${problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n")}`);
  }
  const config = loadPluginConfig(pluginConfig, env).config;
  const conf = defaultRcloneConf(d.ctx.stateDir);
  const out: Remotes = { config };
  if (config.sync) out.sync = resolveRemote(config.sync.remote, config.sync.remotePath, conf, { withCrypt: true });
  if (config.backup) out.backup = resolveBackupRemote({ ...d.ctx, config }, config.backup);
  return out;
}

function tokenTargets(r: Remotes): TokenTarget[] {
  const targets: TokenTarget[] = [];
  const sync = r.config.sync && r.sync ? tokenTarget("sync", r.config.sync.remote, r.sync) : undefined;
  if (sync) targets.push(sync);
  const backup = r.config.backup && r.backup ? tokenTarget("backup", r.config.backup.remote, r.backup) : undefined;
  if (backup && !targets.some((t) => t.sectionName === backup.sectionName && t.remote.configPath === backup.remote.configPath)) targets.push(backup);
  return targets;
}

/**
 * The answers rewrite rclone.conf sections before openclaw.json is written (sign-in, connectivity check). When that
 * would drop a token of a section that becomes another backend (the previous setup's remote), keep a copy first.
 */
async function protectOldTokens(d: SetupDeps, r: Remotes): Promise<void> {
  const conf = defaultRcloneConf(d.ctx.stateDir);
  const existing = await readConf(conf).catch(() => new Map<string, Record<string, string>>());
  const wanted = { ...r.sync?.sections, ...r.backup?.sections };
  const lost = Object.entries(wanted).filter(([name, section]) => existing.get(name)?.token && existing.get(name)?.type !== section.type);
  if (!lost.length) return;
  const copy = await keepCopy(conf, fileStamp());
  d.ui.warn(`rclone.conf section${lost.length > 1 ? "s" : ""} ${lost.map(([n]) => `[${n}]`).join(", ")} change backend; the old token is kept in ${copy}`);
}

/** Signs in where a token is missing (or on request); returns the sections still without one. */
async function signIn(d: SetupDeps, bin: RcloneBinary, targets: TokenTarget[]): Promise<Set<string>> {
  const unsigned = new Set<string>();
  for (const t of targets) {
    const label = PROVIDER_LABEL[t.provider];
    const present = await hasToken(t);
    let method: AuthorizeMethod;
    if (present && !d.ask.has("authorize")) {
      const again = !d.ask.scripted && d.ui.interactive && (await d.ui.confirm({ message: `A ${label} token is stored already. Sign in again?`, initial: false }));
      if (!again) continue;
      method = await d.ask.select<AuthorizeMethod>("authorize", `Sign in to ${label}`, METHODS, "browser");
    } else {
      method = await d.ask.select<AuthorizeMethod>("authorize", `Sign in to ${label} (the ${t.role} remote)`, METHODS, present ? "skip" : d.ask.scripted ? "skip" : "browser");
    }
    const done = await authorizeTarget(t, { ui: d.ui, bin, env: d.ctx.env, method, ...(d.readStdin ? { readStdin: d.readStdin } : {}) });
    if (!done && !present) {
      unsigned.add(t.sectionName);
      d.ui.warn(`no ${label} token yet: run \`workspace-sync authorize --provider ${t.provider}\` before the first sync`);
    }
  }
  return unsigned;
}

const METHODS = [
  { value: "browser" as const, label: "Sign in with a browser", hint: "runs rclone authorize on this machine" },
  { value: "paste" as const, label: "No browser here", hint: "run rclone authorize on another computer and paste the token" },
  { value: "skip" as const, label: "Later", hint: "workspace-sync authorize" },
];

async function checkOne(d: SetupDeps, bin: RcloneBinary, role: string, remote: ResolvedRemote, rootRemote: ResolvedRemote): Promise<boolean> {
  await writeRemoteSections(remote);
  const bucketRoot = remote.isBucketStore && !rootRemote.path("").endsWith(":") ? rootRemote.path("") : undefined;
  const spin = d.ui.spinner(`Checking the ${role} remote ${remote.display}`);
  let reach = await checkReachable(bin, remote, d.ctx.env, bucketRoot ? { bucketRoot } : {});
  if (!reach.ok && reach.missingBucket) {
    spin.fail(reach.error);
    const create = d.ask.scripted || !d.ui.interactive ? true : await d.ui.confirm({ message: `Create the bucket ${reach.missingBucket}?`, initial: true });
    if (!create) return false;
    const made = await runRclone(bin, { args: ["mkdir", reach.missingBucket], configPath: remote.configPath, env: d.ctx.env, timeoutMs: 60_000 });
    if (made.code !== 0) {
      d.ui.error(summarizeFailure("mkdir", made));
      return false;
    }
    reach = await checkReachable(bin, remote, d.ctx.env, bucketRoot ? { bucketRoot } : {});
    if (reach.ok) d.ui.success(`created the bucket; the ${role} remote answers`);
    else d.ui.error(reach.error);
    return reach.ok;
  }
  if (reach.ok) spin.stop(`the ${role} remote answers${reach.folderExists ? "" : " (its folder is created by the first run)"}`);
  else spin.fail(`the ${role} remote does not answer: ${reach.error}`);
  return reach.ok;
}

async function checkConnectivity(d: SetupDeps, bin: RcloneBinary, r: Remotes, unsigned: Set<string>): Promise<void> {
  if (!d.ask.flag("check", true)) {
    d.ui.warn("connectivity check skipped (--no-check)");
    return;
  }
  const conf = defaultRcloneConf(d.ctx.stateDir);
  const checks: [string, ResolvedRemote, ResolvedRemote][] = [];
  if (r.config.sync && r.sync) checks.push(["sync", r.sync, resolveRemote(r.config.sync.remote, "", conf)]);
  if (r.config.backup && r.backup && r.backup.path("") !== r.sync?.path("")) {
    checks.push(["backup", r.backup, resolveRemote(r.config.backup.remote, "", conf)]);
  }
  let failed = false;
  for (const [role, remote, root] of checks) {
    const section = (role === "sync" ? r.config.sync?.remote : r.config.backup?.remote)?.remoteName ?? "";
    if (unsigned.has(section)) {
      d.ui.warn(`the ${role} remote is not checked: it has no token yet`);
      continue;
    }
    if (!(await checkOne(d, bin, role, remote, root))) failed = true;
  }
  if (!failed) return;
  if (d.ask.scripted || !d.ui.interactive) throw new OperationError("the remote does not answer: fix the answers above, or pass --no-check to write the config anyway");
  if (!(await d.ui.confirm({ message: "Write the config anyway?", initial: false }))) throw new OperationError("setup stopped: the remote does not answer; nothing was written");
}

async function writeConfig(d: SetupDeps, pluginConfig: Record<string, unknown>, vars: Record<string, string>): Promise<void> {
  const previous = await currentPluginConfig(d.ctx.configFile);
  const envFile = path.join(d.ctx.stateDir, ".env");
  const summary = [JSON.stringify(pluginConfig, null, 2)];
  if (Object.keys(vars).length) summary.push("", `secrets in ${envFile} (0600): ${Object.keys(vars).join(", ")}`);
  if (vars.BACKUP_PASSPHRASE) summary.push("without BACKUP_PASSPHRASE every encrypted snapshot is lost: keep a copy outside this machine");
  d.ui.note(summary.join("\n"), `${PLUGIN_CONFIG_KEY} in ${d.ctx.configFile}`);
  if (previous !== undefined) d.ui.warn("this replaces the current workspace-sync settings (the previous openclaw.json is kept as a copy)");
  if (!d.ask.scripted && d.ui.interactive && !(await d.ui.confirm({ message: "Write this configuration?", initial: true }))) {
    throw new OperationError("setup stopped before writing: nothing was changed in openclaw.json or .env");
  }
  const stamp = fileStamp();
  const env = await updateDotEnv(envFile, vars, stamp);
  if (env.changed.length) d.ui.success(`${env.changed.join(", ")} stored in ${envFile}`);
  if (env.replaced.length) d.ui.warn(`${env.replaced.join(", ")} replaced an earlier value (kept in ${env.backup}); snapshots taken with the old one still need it`);
  const written = await writePluginConfig(d.ctx.configFile, pluginConfig, { stamp, ...(d.hostWriter ? { host: d.hostWriter } : {}) });
  d.ui.success(
    `config written to ${written.file}${written.via === "host" ? " through OpenClaw's config API" : ""}${written.backup ? ` (previous file kept as ${written.backup})` : ""}`,
  );
}

async function firstSync(d: SetupDeps, ctx: AppContext): Promise<void> {
  if (!ctx.config.sync) return;
  if (!d.ask.flag("first-sync", true)) {
    d.ui.info("first sync skipped: run `workspace-sync sync --dry-run`, then `workspace-sync sync`");
    return;
  }
  const job = await buildSyncJob(ctx);
  const interactive = !d.ask.scripted && d.ui.interactive;
  if (ctx.config.sync.mode === "bisync") {
    // The engine computes what the baseline would copy each way and asks before touching anything.
    const report = await runSyncCycle(job, {
      resync: true,
      yes: !interactive,
      trigger: "cli",
      lockWaitMs: 2_000,
      confirm: async (question, detail) => {
        d.ui.note(detail, "First bisync (--resync) preview");
        return d.ui.confirm({ message: question, initial: false });
      },
    });
    d.ui.note(describeCycle(report).join("\n"), "First sync");
    return;
  }
  let spin = d.ui.spinner("Preview of the first sync (dry run)");
  const preview = await runSyncCycle(job, { dryRun: true, trigger: "cli", lockWaitMs: 2_000 }).catch((err: Error) => {
    spin.fail(err.message);
    throw err;
  });
  spin.stop("preview ready");
  d.ui.note(describeCycle(preview).join("\n"), "The first sync would");
  if (interactive && !(await d.ui.confirm({ message: "Run the first sync now?", initial: true }))) {
    d.ui.info("first sync not run: `workspace-sync sync` runs it");
    return;
  }
  spin = d.ui.spinner("First sync");
  const report = await runSyncCycle(job, { trigger: "cli", lockWaitMs: 2_000 }).catch((err: Error) => {
    spin.fail(err.message);
    throw err;
  });
  spin.stop("first sync done");
  d.ui.note(describeCycle(report).join("\n"), "First sync");
}

async function firstBackup(d: SetupDeps, ctx: AppContext): Promise<void> {
  if (!ctx.config.backup) return;
  if (!d.ask.flag("first-backup", true)) {
    d.ui.info("first backup skipped: `workspace-sync backup now` takes one");
    return;
  }
  if (!d.ask.scripted && d.ui.interactive && !(await d.ui.confirm({ message: "Take the first backup now?", initial: true }))) {
    d.ui.info("first backup not taken: `workspace-sync backup now` takes one");
    return;
  }
  const spin = d.ui.spinner("First backup");
  const outcome = await buildBackupJob(ctx, { write: true })
    .then((job) => runBackup(job, { trigger: "cli", force: true }))
    .catch((err: Error) => {
      spin.fail(err.message);
      throw err;
    });
  spin.stop(outcome.snapshot ? `snapshot ${outcome.snapshot} stored` : "backup done");
  d.ui.note(describeBackup(outcome).join("\n"), "First backup");
}

export async function runSetup(d: SetupDeps): Promise<void> {
  d.ui.intro("workspace-sync setup");
  d.ui.info(`config: ${d.ctx.configFile}${d.ctx.configExists ? "" : " (new)"}\nstate:  ${d.ctx.stateDir}\nworkspace: ${d.ctx.workspaceDir}`);
  await assertReadable(d.ctx.configFile);
  const bin = await ensureRclone(d);
  const answers = await askAnswers(d.ask, { ...(d.ctx.config.rclonePath ? { rclonePath: d.ctx.config.rclonePath } : {}), envFile: path.join(d.ctx.stateDir, ".env") });
  const { config: pluginConfig, secrets } = toPluginConfig(answers);
  const vars = secretVars(secrets);
  const dotEnv = await readDotEnv(path.join(d.ctx.stateDir, ".env")).catch(() => ({}));
  const env = mergeEnv(vars, d.ctx.env, dotEnv) as NodeJS.ProcessEnv;
  const remotes = resolveAnswers(d, pluginConfig, env);
  await protectOldTokens(d, remotes);
  const unsigned = await signIn(d, bin, tokenTargets(remotes));
  await checkConnectivity(d, bin, remotes, unsigned);
  await writeConfig(d, pluginConfig, vars);
  const ctx = await d.reload();
  if (ctx.problems.length) throw new UsageError(`the written config does not load:\n${ctx.problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n")}`);
  if (unsigned.size === 0) {
    await firstSync(d, ctx);
    await firstBackup(d, ctx);
  } else d.ui.warn("first sync and backup wait for the sign-in: `workspace-sync authorize`, then `workspace-sync sync`");
  d.ui.outro("Done. `workspace-sync status` shows the state; the OpenClaw gateway picks the new settings up when it reloads its config.");
}
