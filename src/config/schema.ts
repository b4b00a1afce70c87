// What each plugin config key accepts. Leaf values are zod schemas whose messages say how to fix the value and never
// repeat it (a wrong value may be a secret); objects are ObjectSpecs walked by walk.ts so that one bad key never
// hides the problems of its neighbours.
import path from "node:path";
import { z } from "zod";
import { closest } from "./suggest.js";
import {
  BACKUP_ITEMS,
  type BackupItem,
  BACKUP_FORMATS,
  COMPRESSIONS,
  CONFLICT_RESOLVE,
  PROVIDERS,
  type RetainPolicy,
  SYNC_MODES,
} from "./types.js";

export interface ObjectSpec {
  kind: "object";
  fields: Record<string, FieldSpec>;
  /** Keys that must be present when the object is, with the message saying what to put there. */
  required?: Record<string, string>;
}
export type FieldSpec = z.ZodType | ObjectSpec;

export const isObjectSpec = (f: FieldSpec): f is ObjectSpec => (f as ObjectSpec).kind === "object";
const obj = (fields: Record<string, FieldSpec>, required?: Record<string, string>): ObjectSpec => ({ kind: "object", fields, required });

/** Longest timer Node can arm (setTimeout takes a signed 32-bit millisecond count; beyond it fires at once). */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

// --- secrets -------------------------------------------------------------------------------------------------------

export const SECRET_KEYS: ReadonlySet<string> = new Set([
  "token",
  "appSecret",
  "secretAccessKey",
  "password",
  "password2",
  "passphrase",
  "clientSecret",
]);
const SECRET_OPTION = /pass|secret|token|key/i;

/** True for a config key (last segment, with its parent) whose value must never be shown. */
export function isSecretKey(key: string, parent?: string): boolean {
  return SECRET_KEYS.has(key) || (parent === "rcloneOptions" && SECRET_OPTION.test(key));
}

/** Same test on a dotted key path such as "sync.custom.rcloneOptions.pass" or "exclude[2]". */
export function isSecretPath(dotted: string): boolean {
  const parts = dotted.replace(/\[\d+\]/g, "").split(".");
  return isSecretKey(parts.at(-1) ?? "", parts.at(-2));
}

// --- message helpers -----------------------------------------------------------------------------------------------

export function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "number" && !Number.isFinite(v)) return "a non-finite number";
  return `a ${typeof v}`;
}

const quoteList = (values: readonly string[]) => values.map((v) => JSON.stringify(v)).join(", ");

/** Wrong-type message; a quoted number or boolean gets the hint that placeholders always produce text. */
function typeError(expected: string, example?: string) {
  return (iss: { input?: unknown }): string => {
    const got = kindOf(iss.input);
    const hint =
      typeof iss.input === "string" && example
        ? ` (write ${example} without quotes; a \${VAR} placeholder always gives text, so it cannot set this key)`
        : "";
    return `must be ${expected}, not ${got}${hint}`;
  };
}

// --- leaves --------------------------------------------------------------------------------------------------------

/** Why a string cannot be used as one line of rclone.conf or as a path (undefined when fine). */
function lineProblem(s: string, o: { allowEmpty?: boolean; noOuterSpace?: boolean }): string | undefined {
  if (/[\r\n\u2028\u2029]/.test(s)) return "must be a single line (it contains a line break)";
  if (s.includes("\0")) return "must not contain a NUL character";
  if (/[\x01-\x08\x0b-\x1f\x7f]/.test(s)) return "must not contain control characters";
  if (!o.allowEmpty && s.trim() === "") return "must not be empty";
  if (o.noOuterSpace && s !== s.trim()) return "must not start or end with spaces (rclone.conf would drop them)";
  return undefined;
}

interface TextOptions {
  allowEmpty?: boolean;
  /** The value is written verbatim into rclone.conf, which trims values. */
  noOuterSpace?: boolean;
  /** Extra check, returning a message when the value is wrong. */
  check?: (s: string) => string | undefined;
}

export function text(o: TextOptions = {}) {
  return z.string({ error: typeError("text") }).superRefine((s, ctx) => {
    const message = lineProblem(s, o) ?? o.check?.(s);
    if (message) ctx.addIssue({ code: "custom", message });
  });
}

/** A value that goes into rclone.conf as is. */
const rcloneText = () => text({ noOuterSpace: true });

export const bool = () => z.boolean({ error: typeError("true or false", "true") });

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (iss) => {
      if (typeof iss.input !== "string") return `must be one of ${quoteList(values)}, not ${kindOf(iss.input)}`;
      const near = closest(iss.input, values);
      return `must be one of ${quoteList(values)}${near ? `; did you mean ${JSON.stringify(near)}?` : ""}`;
    },
  });
}

/** A finite number in [min, max]; whole numbers only when `whole`; 0 allowed below min when `zeroOk`. */
export function numberIn(o: { min: number; max: number; whole: boolean; zeroOk?: boolean; expect: string; example: string }) {
  const range = { minimum: o.min, maximum: o.max };
  return z
    .number({ error: typeError(o.expect, o.example) })
    .superRefine((n, ctx) => {
      const inRange = (n === 0 && o.zeroOk) || (n >= o.min && n <= o.max);
      if ((o.whole && !Number.isInteger(n)) || !inRange) ctx.addIssue({ code: "custom", message: `must be ${o.expect}` });
    })
    // The same bounds as JSON Schema, for the generated plugin manifest (the check above is what the loader runs).
    .meta({ type: o.whole ? "integer" : "number", ...(o.zeroOk ? { anyOf: [{ const: 0 }, range] } : range) });
}

const TIMER_MAX_TEXT = `${MAX_TIMER_SECONDS} (about 24 days; longer timers cannot be armed)`;

/** A path relative to the workspace, normalised ("" = the workspace root); it may not leave the workspace. */
export function relativePath(o: { allowEmpty: boolean; what: string }) {
  return z
    .string({ error: typeError("text") })
    .superRefine((s, ctx) => {
      const message =
        lineProblem(s, { allowEmpty: o.allowEmpty }) ??
        (path.posix.isAbsolute(s) || path.win32.isAbsolute(s) || s.startsWith("~")
          ? `must be relative to ${o.what} (like "shared"), not an absolute path`
          : undefined) ??
        (escapes(s) ? `must stay inside ${o.what}: ".." may not lead out of it` : undefined) ??
        (!o.allowEmpty && normalizeRelative(s) === "" ? `must name a folder inside ${o.what}, not ${o.what} itself` : undefined);
      if (message) ctx.addIssue({ code: "custom", message });
    })
    .transform(normalizeRelative);
}

export function normalizeRelative(s: string): string {
  const norm = path.posix.normalize(s.replace(/\\/g, "/")).replace(/\/+$/, "");
  return norm === "." ? "" : norm.replace(/^\.\//, "");
}

function escapes(s: string): boolean {
  const norm = normalizeRelative(s);
  return norm === ".." || norm.startsWith("../");
}

/** A folder on a remote (remotePath, prefix, bucket): any `..` segment could climb out of the bucket or app folder. */
export function remoteFolder(o: { allowEmpty: boolean }) {
  return text({
    allowEmpty: o.allowEmpty,
    noOuterSpace: true,
    check: (s) => (s.split(/[\\/]/).includes("..") ? 'must not contain ".." segments' : undefined),
  });
}

/** An absolute local path (a leading ~ is expanded from HOME when the config is loaded). */
export function absolutePath(what: string) {
  return text({
    noOuterSpace: true,
    check: (s) =>
      path.isAbsolute(s) || s === "~" || s.startsWith("~/") ? undefined : `must be an absolute path (or start with ~/) to ${what}`,
  });
}

const REMOTE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const remoteName = () =>
  text({
    check: (s) =>
      REMOTE_NAME.test(s) ? undefined : 'must be an rclone remote name: letters, digits, "_", "." and "-", not starting with "." or "-"',
  });

const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

function list<T extends z.ZodType>(item: T, o: { nonEmpty?: string; what: string }) {
  return z.array(item, { error: typeError(`a list of ${o.what}`) }).superRefine((items, ctx) => {
    if (items.length === 0 && o.nonEmpty) ctx.addIssue({ code: "custom", message: o.nonEmpty });
  });
}

// An empty list is meaningful here: "exclude nothing".
const excludeList = () => list(text(), { what: "glob patterns" });

const recipients = () =>
  list(
    text({
      check: (s) =>
        AGE_RECIPIENT.test(s) ? undefined : "must be an age X25519 recipient: \"age1\" followed by 58 lower-case letters and digits, as printed by age-keygen",
    }),
    { what: "age recipients" },
  );

const include = () =>
  list(oneOf(BACKUP_ITEMS), {
    what: "backup items",
    nonEmpty: `must name at least one item (${BACKUP_ITEMS.join(", ")})`,
  }).transform((items) => [...new Set(items)] as BackupItem[]);

const RETAIN_KEYS = ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const;
const MAX_RETAIN = 100_000;

/** `7` (keep the 7 newest) or `{ daily: 7, weekly: 4 }` (keep per period). */
const retain = () =>
  z
    .unknown()
    .superRefine((v, ctx) => {
      const add = (message: string, at: (string | number)[] = []) => ctx.addIssue({ code: "custom", message, path: at });
      if (typeof v === "number") {
        if (!Number.isInteger(v) || v < 1 || v > MAX_RETAIN)
          add(`must be a whole number of snapshots from 1 to ${MAX_RETAIN}, or an object like {"daily": 7, "weekly": 4}`);
        return;
      }
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        add(`must be a number of snapshots (like 7) or an object like {"daily": 7, "weekly": 4}, not ${kindOf(v)}`);
        return;
      }
      let anyPositive = false;
      let bad = false;
      for (const [k, n] of Object.entries(v)) {
        if (!(RETAIN_KEYS as readonly string[]).includes(k)) {
          const near = closest(k, RETAIN_KEYS);
          add(`is not a retention period${near ? `; did you mean "${near}"?` : ` (use ${RETAIN_KEYS.join(", ")})`}`, [k]);
          bad = true;
        } else if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_RETAIN) {
          add(`must be a whole number from 0 to ${MAX_RETAIN}`, [k]);
          bad = true;
        } else if (n > 0) {
          anyPositive = true;
        }
      }
      if (!anyPositive && !bad) add("must keep at least one snapshot: give one period a count above 0");
    })
    .transform((v) => v as number | RetainPolicy)
    .meta({
      anyOf: [
        { type: "integer", minimum: 1, maximum: MAX_RETAIN },
        {
          type: "object",
          additionalProperties: true,
          properties: Object.fromEntries(RETAIN_KEYS.map((k) => [k, { type: "integer", minimum: 0, maximum: MAX_RETAIN }])),
        },
      ],
    });

/** rclone backend options: `option_name: text | number | boolean`, written into rclone.conf. */
const rcloneOptions = () =>
  z
    .unknown()
    .superRefine((v, ctx) => {
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        ctx.addIssue({ code: "custom", message: `must be an object of rclone options, not ${kindOf(v)}` });
        return;
      }
      for (const [k, value] of Object.entries(v)) {
        const add = (message: string) => ctx.addIssue({ code: "custom", message, path: [k] });
        if (!/^[A-Za-z0-9_]+$/.test(k)) add("is not a valid rclone option name (letters, digits and _ only)");
        else if (k === "type") add('must not be set here: the backend type comes from "rcloneType"');
        else if (typeof value === "string") {
          // Password options are stored obscured, so outer spaces survive; everything else is written verbatim.
          const m = lineProblem(value, { allowEmpty: true, noOuterSpace: !/pass/i.test(k) });
          if (m) add(m);
        } else if (typeof value === "number") {
          if (!Number.isFinite(value)) add("must be a finite number");
        } else if (typeof value !== "boolean") add(`must be text, a number or true/false, not ${kindOf(value)}`);
      }
    })
    .transform((v) => v as Record<string, string | number | boolean>)
    .meta({ type: "object", additionalProperties: { type: ["string", "number", "boolean"] } });

// --- objects -------------------------------------------------------------------------------------------------------

export const DROPBOX_SPEC = obj({ appFolder: bool(), appKey: rcloneText(), appSecret: rcloneText(), token: rcloneText() });
export const GDRIVE_SPEC = obj({
  token: rcloneText(),
  teamDrive: rcloneText(),
  rootFolderId: rcloneText(),
  clientId: rcloneText(),
  clientSecret: rcloneText(),
});
export const ONEDRIVE_SPEC = obj({
  token: rcloneText(),
  driveId: rcloneText(),
  driveType: oneOf(["personal", "business", "sharepoint"]),
  clientId: rcloneText(),
  clientSecret: rcloneText(),
});
export const S3_SPEC = obj({
  provider: rcloneText(),
  endpoint: rcloneText(),
  bucket: remoteFolder({ allowEmpty: false }),
  region: rcloneText(),
  accessKeyId: rcloneText(),
  secretAccessKey: rcloneText(),
});
export const CUSTOM_SPEC = obj(
  {
    rcloneType: text({
      noOuterSpace: true,
      check: (s) => (/^[a-z0-9][a-z0-9 _-]*$/i.test(s) ? undefined : "must be an rclone backend type such as \"sftp\" or \"b2\""),
    }),
    rcloneOptions: rcloneOptions(),
  },
  { rcloneType: 'is required: the rclone backend type, such as "sftp", "b2" or "webdav"' },
);
export const LOCAL_SPEC = obj(
  { path: absolutePath("the target folder (a NAS mount, a USB disk)") },
  { path: 'is required: the absolute folder to sync into, like "/mnt/nas/openclaw"' },
);
export const CRYPT_SPEC = obj(
  { password: text(), password2: text() },
  { password: 'is required to encrypt the remote: use a placeholder such as "${SYNC_CRYPT_PASSWORD}"' },
);

export const PROVIDER_BLOCKS = {
  dropbox: DROPBOX_SPEC,
  gdrive: GDRIVE_SPEC,
  onedrive: ONEDRIVE_SPEC,
  s3: S3_SPEC,
  custom: CUSTOM_SPEC,
  local: LOCAL_SPEC,
} as const;
export type BlockName = keyof typeof PROVIDER_BLOCKS;

const interval = numberIn({
  min: 60,
  max: MAX_TIMER_SECONDS,
  whole: true,
  zeroOk: true,
  expect: `0 (sync only when asked) or a whole number of seconds from 60 to ${TIMER_MAX_TEXT}`,
  example: "300",
});
const timeout = numberIn({ min: 60, max: MAX_TIMER_SECONDS, whole: true, expect: `a whole number of seconds from 60 to ${TIMER_MAX_TEXT}`, example: "1800" });

export const SYNC_SPEC = obj({
  provider: oneOf(PROVIDERS),
  mode: oneOf(SYNC_MODES),
  remotePath: remoteFolder({ allowEmpty: true }),
  localPath: relativePath({ allowEmpty: true, what: "the workspace" }),
  interval,
  timeout,
  onSessionStart: bool(),
  onSessionEnd: bool(),
  remoteName: remoteName(),
  configPath: absolutePath("your rclone.conf"),
  conflictResolve: oneOf(CONFLICT_RESOLVE),
  exclude: excludeList(),
  excludeSecrets: bool(),
  copySymlinks: bool(),
  ingest: bool(),
  ingestPath: relativePath({ allowEmpty: false, what: "the synced folder" }),
  notifyOnInbox: bool(),
  maxDelete: numberIn({ min: 0, max: 100, whole: false, expect: "a percentage from 0 to 100", example: "50" }),
  trashDays: numberIn({ min: 0, max: 36500, whole: true, expect: "a whole number of days from 0 (no trash) to 36500", example: "7" }),
  fullSyncInterval: numberIn({
    min: 0,
    max: MAX_TIMER_SECONDS,
    whole: true,
    expect: `0 (a full rclone sync every cycle) or a whole number of seconds up to ${TIMER_MAX_TEXT}`,
    example: "86400",
  }),
  ...PROVIDER_BLOCKS,
  crypt: CRYPT_SPEC,
});

export const BACKUP_SPEC = obj({
  enabled: bool(),
  provider: oneOf(PROVIDERS),
  remoteName: remoteName(),
  configPath: absolutePath("your rclone.conf"),
  bucket: remoteFolder({ allowEmpty: false }),
  prefix: remoteFolder({ allowEmpty: true }),
  interval: numberIn({
    min: 300,
    max: MAX_TIMER_SECONDS,
    whole: true,
    expect: `a whole number of seconds from 300 (5 minutes) to ${TIMER_MAX_TEXT}`,
    example: "86400",
  }),
  timeout: numberIn({ min: 60, max: MAX_TIMER_SECONDS, whole: true, expect: `a whole number of seconds from 60 to ${TIMER_MAX_TEXT}`, example: "3600" }),
  encrypt: bool(),
  passphrase: text(),
  recipients: recipients(),
  identityFile: absolutePath("your age identity file"),
  include: include(),
  retain: retain(),
  exclude: excludeList(),
  compression: oneOf(COMPRESSIONS),
  allowPlaintextSecrets: bool(),
  format: oneOf(BACKUP_FORMATS),
  ...PROVIDER_BLOCKS,
});

const ROOT_FIELDS = { rclonePath: absolutePath("the rclone binary (leave the key out to use rclone from PATH)") };
/** Root of the nested format: `sync` and `backup` are walked on their own. */
export const NESTED_ROOT_SPEC = obj(ROOT_FIELDS);
/** Root of the flat format: sync keys at the root, `backup` walked on its own. */
export const FLAT_ROOT_SPEC = obj({ ...SYNC_SPEC.fields, ...ROOT_FIELDS });
