// Reads and updates rclone.conf section by section: other sections (and tokens rclone refreshed) are kept,
// values are validated against injection, and the file is replaced atomically with mode 0600.
import { UsageError } from "../util/errors.js";
import { chmod, readFile } from "node:fs/promises";
import { writeFileAtomic } from "../util/atomic-file.js";

export type ConfSection = Record<string, string>;
export type ConfFile = Map<string, ConfSection>;

const SECTION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const OPTION_KEY = /^[A-Za-z0-9_]+$/;

export function parseConf(text: string): ConfFile {
  const conf: ConfFile = new Map();
  let current: ConfSection | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      current = {};
      conf.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0 && current) current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return conf;
}

export function serializeConf(conf: ConfFile): string {
  const parts: string[] = [];
  for (const [name, section] of conf) {
    parts.push(`[${name}]`);
    for (const [key, value] of Object.entries(section)) parts.push(`${key} = ${value}`);
    parts.push("");
  }
  return parts.join("\n");
}

/** A value that cannot go into rclone.conf safely: a config problem (exit 2). */
export class ConfValueError extends UsageError {
  constructor(
    readonly section: string,
    readonly key: string,
    reason: string,
  ) {
    super(`rclone option ${section}.${key} ${reason}`);
    this.name = "ConfValueError";
  }
}

/** Rejects anything that could break out of its line or section in rclone's INI format. */
export function validateSection(name: string, section: ConfSection): void {
  if (!SECTION_NAME.test(name)) throw new ConfValueError(name, "(name)", "is not a valid remote name (letters, digits, _ . -)");
  for (const [key, value] of Object.entries(section)) {
    if (!OPTION_KEY.test(key)) throw new ConfValueError(name, key, "has an invalid option name");
    if (/[\r\n\0]/.test(value)) throw new ConfValueError(name, key, "contains a line break or NUL, which rclone.conf cannot hold");
    if (value !== value.trim()) throw new ConfValueError(name, key, "has leading or trailing spaces, which rclone.conf would drop");
  }
}

export async function readConf(file: string): Promise<ConfFile> {
  try {
    return parseConf(await readFile(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw err;
  }
}

/**
 * Replaces the named sections (keeping the order of the others). `keep(name, key, value, existingSection)` says
 * which existing values win over the new ones (e.g. an OAuth token rclone refreshed since the product last wrote
 * it) or stay although the new section does not set them (a token `workspace-sync authorize` stored).
 */
export async function updateSections(
  file: string,
  sections: Record<string, ConfSection>,
  keep: (section: string, key: string, existing: string, existingSection: ConfSection) => boolean = () => false,
): Promise<boolean> {
  for (const [name, section] of Object.entries(sections)) validateSection(name, section);
  const conf = await readConf(file);
  const before = serializeConf(conf);
  for (const [name, section] of Object.entries(sections)) {
    const existing = conf.get(name) ?? {};
    const merged: ConfSection = { ...section };
    for (const [key, value] of Object.entries(existing)) if (keep(name, key, value, existing)) merged[key] = value;
    conf.set(name, merged);
  }
  const after = serializeConf(conf);
  if (after === before) {
    await chmod(file, 0o600).catch(() => {});
    return false;
  }
  await writeFileAtomic(file, after);
  return true;
}
