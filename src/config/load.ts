// Raw plugin config (nested or flat, with ${VAR} placeholders) → validated PluginConfig plus EVERY problem found.
// Problem keys are the dotted paths as the user wrote them: "sync.interval" in the nested format, "interval" in
// the flat one. With problems the returned config may be partial; callers stop (exit 2) or stay idle.
import { buildBackup } from "./backup-config.js";
import { expandHome, type Env } from "./home.js";
import { PLUGIN_CONFIG_KEY } from "./locate.js";
import { resolveVars } from "./resolve-vars.js";
import { BACKUP_SPEC, FLAT_ROOT_SPEC, isSecretPath, kindOf, NESTED_ROOT_SPEC, SYNC_SPEC } from "./schema.js";
import type { RawBackup, RawSync, Section } from "./sections.js";
import { buildSync, buildSyncRemote } from "./sync-config.js";
import type { ConfigProblem, PluginConfig } from "./types.js";
import { isPlainObject, type WalkContext, walkObject } from "./walk.js";

export { DEFAULT_BACKUP_INCLUDE } from "./backup-config.js";

export interface LoadResult {
  config: PluginConfig;
  problems: ConfigProblem[];
}

export function loadPluginConfig(pluginRaw: unknown, env: Env): LoadResult {
  const problems: ConfigProblem[] = [];
  if (pluginRaw === undefined || pluginRaw === null) return { config: {}, problems };
  const vars = resolveVars(pluginRaw, env, isSecretPath);
  problems.push(...vars.problems);
  const ctx: WalkContext = { problems, unresolved: vars.unresolved };
  const root = vars.value;
  if (!isPlainObject(root)) {
    problems.push({ key: PLUGIN_CONFIG_KEY, message: `must be an object with "sync" and/or "backup", not ${kindOf(root)}` });
    return { config: {}, problems };
  }

  const nested = root.sync !== undefined;
  let sync: Section<RawSync>;
  let rootValid: RawSync;
  if (nested) {
    rootValid = walkObject(root, NESTED_ROOT_SPEC, "", ctx, {
      ignore: new Set(["sync", "backup"]),
      misplaced: (k) =>
        Object.hasOwn(SYNC_SPEC.fields, k)
          ? 'is a sync setting at the top level, but this config has a "sync" block: move it inside "sync"'
          : misplacedBackupKey(k),
    }) as RawSync;
    const raw = isPlainObject(root.sync) ? root.sync : {};
    const valid = (walkObject(root.sync, SYNC_SPEC, "sync", ctx, { misplaced: misplacedBackupKey }) ?? {}) as RawSync;
    sync = { prefix: "sync", raw, valid };
  } else {
    rootValid = walkObject(root, FLAT_ROOT_SPEC, "", ctx, {
      ignore: new Set(["backup"]),
      misplaced: misplacedBackupKey,
      alsoKnown: ["sync"],
    }) as RawSync;
    sync = { prefix: "", raw: root, valid: rootValid };
  }

  const config: PluginConfig = {};
  if (rootValid.rclonePath !== undefined) config.rclonePath = expandHome(rootValid.rclonePath, env);
  const syncRemote = buildSyncRemote(sync, ctx, env);
  const syncConfig = buildSync(sync, syncRemote, ctx);
  if (syncConfig) config.sync = syncConfig;

  if (root.backup !== undefined) {
    const raw = isPlainObject(root.backup) ? root.backup : {};
    const valid = (walkObject(root.backup, BACKUP_SPEC, "backup", ctx, { misplaced: misplacedSyncKey }) ?? {}) as RawBackup;
    const backup = buildBackup({ prefix: "backup", raw, valid }, sync, syncRemote, ctx, env);
    if (backup) config.backup = backup;
  }
  // Variable problems were found first; list everything in the order the config is written instead.
  const order = Object.keys(root);
  const rank = (key: string) => {
    const i = order.indexOf(key.split(/[.[]/)[0] ?? "");
    return i < 0 ? order.length : i;
  };
  // A block shared by sync and backup is checked for both: say each problem once.
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.key === p.key && q.message === p.message) === i);
  const sorted = unique.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p.key) - rank(b.p.key) || a.i - b.i);
  return { config, problems: sorted.map((x) => x.p) };
}

function misplacedBackupKey(k: string): string | undefined {
  if (k === "backup") return 'belongs at the top level of the plugin config, beside "sync"';
  if (Object.hasOwn(SYNC_SPEC.fields, k) || !Object.hasOwn(BACKUP_SPEC.fields, k)) return undefined;
  return `is a backup setting: put it inside the "backup" block`;
}

function misplacedSyncKey(k: string): string | undefined {
  if (k === "crypt") return 'is not a backup setting: crypt wraps the sync remote only; backups are encrypted with "encrypt" plus "passphrase" or "recipients"';
  if (!Object.hasOwn(SYNC_SPEC.fields, k)) return undefined;
  return "is a sync setting, not a backup one: put it with the sync settings";
}
