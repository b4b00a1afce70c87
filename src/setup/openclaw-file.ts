// Writes the plugin config into openclaw.json: a dated copy of the previous file first, then the file replaced
// atomically with every other key kept. openclaw.json is JSON5 for the host; it is read with the json5 package and
// written back as plain JSON (valid JSON5), so comments in the old file survive only in the copy. In plugin mode the
// host's own config API does the write when it offers one.
import { constants } from "node:fs";
import { chmod, copyFile, readFile, stat } from "node:fs/promises";
import { parseJson5, PLUGIN_ID } from "../config/index.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { UsageError } from "../util/errors.js";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The config host writes through (plugin mode): applies `mutate` to the host's own draft of openclaw.json. */
export type HostConfigWriter = (mutate: (draft: Json) => void) => Promise<void>;

export interface ConfigWriteResult {
  file: string;
  /** Copy of the previous openclaw.json (absent when there was none). */
  backup?: string;
  via: "file" | "host";
}

/** `20261127T153958Z`: sortable, no characters any file system refuses. */
export function fileStamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Sets `plugins.entries.<id>` to enabled with `pluginConfig`, keeping everything else of the root and the entry. */
export function withPluginConfig(root: Json, pluginConfig: Json): Json {
  const plugins = isObject(root.plugins) ? root.plugins : {};
  const entries = isObject(plugins.entries) ? plugins.entries : {};
  const entry = isObject(entries[PLUGIN_ID]) ? entries[PLUGIN_ID] : {};
  return {
    ...root,
    plugins: { ...plugins, entries: { ...entries, [PLUGIN_ID]: { ...entry, enabled: true, config: pluginConfig } } },
  };
}

/** Mutates a host draft in place the same way (the host API hands out a draft object). */
function applyToDraft(draft: Json, pluginConfig: Json): void {
  const next = withPluginConfig(draft, pluginConfig);
  draft.plugins = next.plugins;
}

async function readRoot(file: string): Promise<{ root: Json; mode?: number }> {
  let text: string;
  let mode: number | undefined;
  try {
    [text, mode] = await Promise.all([readFile(file, "utf8"), stat(file).then((s) => s.mode & 0o777)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { root: {} };
    throw new UsageError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}); check its permissions`);
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === "" ? {} : parseJson5(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON5 (${(err as Error).message}): fix it first, setup never overwrites a file it cannot read`);
  }
  if (!isObject(parsed)) throw new UsageError(`${file} must hold a JSON object at the top level: fix it first`);
  return { root: parsed, mode };
}

/** Copies the current file to `<file>.<stamp>.bak` (never over an existing copy); undefined when there is no file. */
export async function keepCopy(file: string, stamp: string): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const target = `${file}.${stamp}${i ? `-${i}` : ""}.bak`;
    try {
      await copyFile(file, target, constants.COPYFILE_EXCL);
      await chmod(target, 0o600);
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (code !== "EEXIST") throw err;
    }
  }
  throw new Error(`too many copies of ${file} named ${stamp}`);
}

/**
 * Writes `pluginConfig` as `plugins.entries.openclaw-workspace-sync.config` (enabled), after keeping a copy of the
 * previous file. The file is validated as readable before anything is copied or written.
 */
export async function writePluginConfig(
  file: string,
  pluginConfig: Json,
  opts: { stamp?: string; host?: HostConfigWriter } = {},
): Promise<ConfigWriteResult> {
  const { root, mode } = await readRoot(file);
  const backup = await keepCopy(file, opts.stamp ?? fileStamp());
  if (opts.host) {
    await opts.host((draft) => applyToDraft(draft, pluginConfig));
    return { file, via: "host", ...(backup ? { backup } : {}) };
  }
  const next = withPluginConfig(root, pluginConfig);
  await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, mode ?? 0o600);
  return { file, via: "file", ...(backup ? { backup } : {}) };
}

/** Throws (exit 2) when the file exists but cannot be read or parsed: checked before any question is asked. */
export async function assertReadable(file: string): Promise<void> {
  await readRoot(file);
}

/** The plugin config currently in the file (undefined when absent), to tell the user what setup replaces. */
export async function currentPluginConfig(file: string): Promise<unknown> {
  try {
    const { root } = await readRoot(file);
    const entry = (root.plugins as Json | undefined)?.entries as Json | undefined;
    return (entry?.[PLUGIN_ID] as Json | undefined)?.config;
  } catch {
    return undefined;
  }
}
