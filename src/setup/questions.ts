// The questions of the wizard, in order. Each answer is checked with the config loader's own validator for the key
// it becomes (validate.ts), so a refusal at the prompt and a refusal when the config loads always agree.
import { isSecretKey } from "../config/index.js";
import type { BlockName } from "../config/schema.js";
import type { SyncMode } from "../config/types.js";
import type { Asker, Secret } from "./ask.js";
import type { BackupAnswers, BackupEncryption, RemoteAnswers, SetupAnswers, SyncAnswers } from "./answers.js";
import {
  DEFAULT_BACKUP_INTERVAL,
  DEFAULT_BACKUP_PREFIX,
  DEFAULT_REMOTE_PATH,
  DEFAULT_RETAIN,
  DEFAULT_SYNC_INTERVAL,
  MODE_CHOICES,
  PROVIDER_CHOICES,
  PROVIDER_LABEL,
  type RemoteProvider,
  S3_PRESET_NAMES,
  S3_PRESETS,
  type S3Preset,
} from "./catalog.js";
import type { Choice } from "./ui.js";
import { generatePassphrase, MIN_LENGTH, passphraseCheck } from "./passphrase.js";
import { checkBackup, checkBlock, checkSeconds, checkSync, parseRetain } from "./validate.js";

type Section = "sync" | "backup";
const flagPrefix = (s: Section) => (s === "sync" ? "" : "backup-");
const envPrefix = (s: Section) => (s === "sync" ? "SYNC" : "BACKUP");

/** Optional text: empty is fine, anything else must pass the block's validator. */
const optional = (block: BlockName, key: string) => (v: string) => (v === "" ? undefined : checkBlock(block, key, v));
const optionalText = (v: string) => (v === "" ? undefined : v);

/** An rclone option whose value is a credential (its value goes to .env, never into the config or argv). */
export function isSecretOption(name: string): boolean {
  return isSecretKey(name, "rcloneOptions") && !/_file$/i.test(name);
}

const PLACEHOLDER_ONLY = /^\$\{[A-Z_][A-Z0-9_]*\}$/;

async function askLocal(ask: Asker, section: Section): Promise<RemoteAnswers> {
  const path = await ask.text(`${flagPrefix(section)}local-folder`, section === "sync" ? "Folder to sync into (absolute path: a NAS mount, a USB disk, …)" : "Folder for the backups (absolute path)", {
    placeholder: "/mnt/nas/openclaw",
    required: 'is required: the absolute folder, like "/mnt/nas/openclaw"',
    check: (v) => checkBlock("local", "path", v),
  });
  return { provider: "local", local: { path } };
}

async function askDropbox(ask: Asker, section: Section): Promise<RemoteAnswers> {
  const p = flagPrefix(section);
  const appFolder = await ask.confirm(`${p}dropbox-app-folder`, "Use your own Dropbox app with App folder access? (the token then reaches only Apps/<your app>/; recommended)", false);
  if (!appFolder) return { provider: "dropbox", dropbox: { appFolder: false } };
  if (ask.ui.interactive && !ask.scripted) {
    ask.ui.note(
      [
        "1. https://www.dropbox.com/developers/apps → Create app → Scoped access → App folder",
        "2. Settings: add the redirect URI http://localhost:53682/ (rclone's sign-in needs it)",
        "3. Permissions: files.metadata.read/write and files.content.read/write, then Submit",
        "4. Copy the App key and App secret from Settings",
      ].join("\n"),
      "Your own Dropbox app",
    );
  }
  const appKey = await ask.text(`${p}dropbox-app-key`, "App key", { required: "is required for an app folder: the App key of your Dropbox app", check: (v) => checkBlock("dropbox", "appKey", v) });
  const appSecret = await ask.secret(`${envPrefix(section)}_DROPBOX_APP_SECRET`, "App secret", { required: true, check: (v) => checkBlock("dropbox", "appSecret", v) });
  return { provider: "dropbox", dropbox: { appFolder: true, appKey, ...(appSecret ? { appSecret } : {}) } };
}

async function askClient(ask: Asker, section: Section, block: "gdrive" | "onedrive"): Promise<{ clientId?: string; clientSecret?: Secret }> {
  const clientId = optionalText(
    await ask.text(`${flagPrefix(section)}${block}-client-id`, "Your own OAuth client id (empty = rclone's shared one)", { defaultValue: "", check: optional(block, "clientId") }),
  );
  if (!clientId) return {};
  const clientSecret = await ask.secret(`${envPrefix(section)}_${block.toUpperCase()}_CLIENT_SECRET`, "OAuth client secret", { required: true, check: (v) => checkBlock(block, "clientSecret", v) });
  return { clientId, ...(clientSecret ? { clientSecret } : {}) };
}

async function askGdrive(ask: Asker, section: Section): Promise<RemoteAnswers> {
  const p = flagPrefix(section);
  const teamDrive = optionalText(await ask.text(`${p}gdrive-team-drive`, "Shared drive (Team Drive) id (empty = My Drive)", { defaultValue: "", check: optional("gdrive", "teamDrive") }));
  const rootFolderId = optionalText(
    await ask.text(`${p}gdrive-root-folder`, "Root folder id (empty = the drive's root)", { defaultValue: "", check: optional("gdrive", "rootFolderId") }),
  );
  return { provider: "gdrive", gdrive: { teamDrive, rootFolderId, ...(await askClient(ask, section, "gdrive")) } };
}

async function askOnedrive(ask: Asker, section: Section): Promise<RemoteAnswers> {
  const p = flagPrefix(section);
  const driveType = await ask.select(
    `${p}onedrive-drive-type`,
    "Which kind of OneDrive?",
    [
      { value: "personal", label: "Personal", hint: "a Microsoft account's OneDrive" },
      { value: "business", label: "Business", hint: "OneDrive for work or school" },
      { value: "sharepoint", label: "SharePoint", hint: "a SharePoint document library" },
    ],
    "personal",
  );
  const driveId = optionalText(
    await ask.text(`${p}onedrive-drive-id`, "Drive id (empty = found after you sign in)", { defaultValue: "", check: optional("onedrive", "driveId") }),
  );
  return { provider: "onedrive", onedrive: { driveType, driveId, ...(await askClient(ask, section, "onedrive")) } };
}

const httpUrl = (v: string) => (/^https?:\/\/[^\s/]+/.test(v) ? checkBlock("s3", "endpoint", v) : "must be a URL starting with https:// or http://");

async function askS3(ask: Asker, section: Section): Promise<RemoteAnswers> {
  const p = flagPrefix(section);
  const env = envPrefix(section);
  const preset = await ask.select<S3Preset>(
    `${p}s3-preset`,
    "Which S3 service?",
    S3_PRESET_NAMES.map((value) => ({ value, label: S3_PRESETS[value].label, hint: S3_PRESETS[value].hint })),
    ask.has(`${p}s3-endpoint`) ? "other" : "aws",
  );
  const info = S3_PRESETS[preset];
  const region =
    info.fixedRegion ??
    (await ask.text(`${p}s3-region`, "Region", {
      ...(info.defaultRegion ? { defaultValue: info.defaultRegion } : { placeholder: "us-west-004" }),
      required: "is required: the bucket's region",
      check: (v) => checkBlock("s3", "region", v),
    }));
  let endpoint: string | undefined;
  if (info.askEndpoint || ask.has(`${p}s3-endpoint`)) {
    endpoint = await ask.text(`${p}s3-endpoint`, "Endpoint URL", {
      placeholder: "https://s3.example.com",
      required: "is required: the S3 endpoint URL",
      check: httpUrl,
    });
  } else if (info.askAccountId) {
    const accountId = await ask.text(`${p}s3-account-id`, "Cloudflare account id (R2 → Overview)", {
      required: "is required: it makes the R2 endpoint https://<account id>.r2.cloudflarestorage.com",
      check: (v) => (/^[A-Za-z0-9]+$/.test(v) ? undefined : "must be letters and digits only"),
    });
    endpoint = info.endpoint?.({ accountId });
  } else endpoint = info.endpoint?.({ region });
  const bucket = await ask.text(`${p}s3-bucket`, "Bucket", { required: "is required: the bucket name", check: (v) => checkBlock("s3", "bucket", v) });
  const accessKeyId = await ask.secret(`${env}_S3_ACCESS_KEY_ID`, info.keysOptional ? "Access key id (empty = credentials from the environment or instance role)" : "Access key id", {
    required: !info.keysOptional,
    check: (v) => checkBlock("s3", "accessKeyId", v),
  });
  const secretAccessKey = accessKeyId
    ? await ask.secret(`${env}_S3_SECRET_ACCESS_KEY`, "Secret access key", { required: true, check: (v) => checkBlock("s3", "secretAccessKey", v) })
    : undefined;
  return {
    provider: "s3",
    s3: {
      provider: info.rcloneProvider,
      ...(endpoint ? { endpoint } : {}),
      region,
      bucket,
      ...(accessKeyId ? { accessKeyId } : {}),
      ...(secretAccessKey ? { secretAccessKey } : {}),
    },
  };
}

const optionProblem = (name: string, value: string) => checkBlock("custom", "rcloneOptions", { [name]: value });

async function askCustom(ask: Asker, section: Section): Promise<RemoteAnswers> {
  const p = flagPrefix(section);
  const rcloneType = await ask.text(`${p}custom-type`, "rclone backend type (sftp, webdav, b2, pcloud, …)", {
    required: "is required: the rclone backend type",
    check: (v) => checkBlock("custom", "rcloneType", v),
  });
  const options: Record<string, string | Secret> = {};
  const secretVar = (name: string) => `${envPrefix(section)}_CUSTOM_${name.toUpperCase()}`;
  if (ask.has(`${p}custom-option`) || ask.scripted || !ask.ui.interactive) {
    const items = await ask.list(`${p}custom-option`, "rclone options", {
      check: (item) => {
        const eq = item.indexOf("=");
        if (eq <= 0) return "must be name=value";
        const [name, value] = [item.slice(0, eq), item.slice(eq + 1)];
        if (isSecretOption(name) && !PLACEHOLDER_ONLY.test(value)) {
          return `holds a credential: pass ${name}=\${${secretVar(name)}} and set ${secretVar(name)} in the environment or <stateDir>/.env (arguments are visible to every user)`;
        }
        return optionProblem(name, value);
      },
    });
    for (const item of items) {
      const eq = item.indexOf("=");
      options[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return { provider: "custom", custom: { rcloneType, options } };
  }
  ask.ui.info(`Options of rclone's ${rcloneType} backend, one at a time (see https://rclone.org/${rcloneType}/): credentials are asked hidden and stored in .env.`);
  for (;;) {
    const name = await ask.ui.text({
      message: "Option name (empty = done)",
      placeholder: "host",
      validate: (v) => (v === "" ? undefined : /^[A-Za-z0-9_]+$/.test(v) && v !== "type" ? (Object.hasOwn(options, v) ? "is given already" : undefined) : "must be an rclone option name (letters, digits, _), not type"),
    });
    if (name === "") break;
    if (isSecretOption(name)) {
      const secret = await ask.secret(secretVar(name), `Value of ${name} (hidden)`, { required: true, check: (v) => optionProblem(name, v) });
      if (secret) options[name] = secret;
    } else {
      options[name] = await ask.ui.text({ message: `Value of ${name}`, validate: (v) => optionProblem(name, v) });
    }
  }
  return { provider: "custom", custom: { rcloneType, options } };
}

export function askRemote(ask: Asker, section: Section, provider: RemoteProvider): Promise<RemoteAnswers> {
  switch (provider) {
    case "local":
      return askLocal(ask, section);
    case "dropbox":
      return askDropbox(ask, section);
    case "gdrive":
      return askGdrive(ask, section);
    case "onedrive":
      return askOnedrive(ask, section);
    case "s3":
      return askS3(ask, section);
    case "custom":
      return askCustom(ask, section);
  }
}

async function askSync(ask: Asker, provider: RemoteProvider): Promise<SyncAnswers> {
  const remote = await askRemote(ask, "sync", provider);
  const mode = await ask.select<SyncMode>("mode", "Sync mode (required: there is no default direction)", MODE_CHOICES);
  const appFolder = remote.dropbox?.appFolder === true;
  const remotePath = await ask.text(
    "remote-path",
    appFolder ? "Folder inside the app folder (empty = the app folder itself, recommended)" : "Folder on the remote",
    appFolder
      ? { defaultValue: "", placeholder: "(the app folder itself)", check: (v) => checkSync("remotePath", v) }
      : { defaultValue: DEFAULT_REMOTE_PATH, check: (v) => checkSync("remotePath", v) },
  );
  const localPath = await ask.text("local-path", "Workspace sub-folder to sync (relative; empty = the whole workspace)", {
    defaultValue: "",
    placeholder: "(the whole workspace)",
    check: (v) => checkSync("localPath", v),
  });
  const interval = Number(
    await ask.text("interval", "Sync in the background every how many seconds? (0 = only when asked, otherwise 60 or more)", {
      defaultValue: String(DEFAULT_SYNC_INTERVAL),
      check: (v) => checkSeconds(v, (n) => checkSync("interval", n)),
    }),
  );
  const onSessionStart = await ask.confirm("session-start", "Also sync when an agent session starts? (in the background; never delays the session)", false);
  const onSessionEnd = await ask.confirm("session-end", "Also sync when an agent session ends?", false);
  const cryptOn = await ask.confirm(
    "crypt",
    "Encrypt the synced copy end to end with rclone crypt? (file names and contents; only rclone with the password can read the cloud copy)",
    false,
  );
  let crypt: SyncAnswers["crypt"];
  if (cryptOn) {
    const password = await ask.secret("SYNC_CRYPT_PASSWORD", "Crypt password (keep a copy: without it the cloud copy is unreadable)", {
      required: true,
      twice: true,
      check: (v) => checkBlock("crypt", "password", v),
    });
    const password2 = await ask.secret("SYNC_CRYPT_PASSWORD2", "Second crypt password (salt)", { required: false, check: (v) => checkBlock("crypt", "password2", v) });
    crypt = { password: password!, ...(password2 ? { password2 } : {}) };
  }
  return { remote, mode, remotePath, localPath, interval, onSessionStart, onSessionEnd, ...(crypt ? { crypt } : {}) };
}

/**
 * The backup passphrase: strong enough to survive offline guessing (passphrase.ts), typed twice or generated. Where
 * it is kept and what its loss costs is said before it is asked.
 */
async function askPassphrase(ask: Asker, envFile: string): Promise<Secret> {
  const strong = await passphraseCheck();
  const check = (v: string) => checkBackup("passphrase", v) ?? strong(v);
  const keep = `kept in ${envFile} (0600) on this machine; without it every encrypted snapshot is unreadable, so keep a copy somewhere else too (a password manager)`;
  if (ask.flag("generate-passphrase", false)) {
    const value = generatePassphrase();
    ask.ui.warn(`a generated backup passphrase (BACKUP_PASSPHRASE) is ${keep}`);
    return { envVar: "BACKUP_PASSPHRASE", value };
  }
  if (ask.scripted || !ask.ui.interactive) {
    return (await ask.secret("BACKUP_PASSPHRASE", "Backup passphrase (--backup-encrypt passphrase)", { required: true, check }))!;
  }
  ask.ui.note(
    [
      "The backup passphrase encrypts every snapshot.",
      `It is kept in ${envFile} (0600) on this machine.`,
      "Without it every encrypted snapshot is unreadable: keep a copy somewhere else too (a password manager).",
    ].join("\n"),
    "Backup passphrase",
  );
  const how = await ask.ui.select<"generate" | "type">({
    message: "How should the backup passphrase be made?",
    options: [
      { value: "generate", label: "Generate a strong one", hint: "28 random characters, shown once for you to copy" },
      { value: "type", label: "Type my own", hint: `${MIN_LENGTH}+ characters, hard to guess (several unrelated words)` },
    ],
    initial: "generate",
  });
  if (how === "generate") {
    const value = generatePassphrase();
    ask.ui.note(`${value}\n\nCopy it now into a password manager: it is not shown again (it is stored in ${envFile}).`, "Your backup passphrase");
    for (;;) {
      if (await ask.ui.confirm({ message: "Have you stored a copy somewhere other than this machine?", initial: false })) break;
    }
    return { envVar: "BACKUP_PASSPHRASE", value };
  }
  return (await ask.secret("BACKUP_PASSPHRASE", "Backup passphrase", { required: true, twice: true, check }))!;
}

async function askBackup(ask: Asker, sync: SyncAnswers | undefined, envFile: string): Promise<BackupAnswers | undefined> {
  const want = await ask.confirm("backup", "Set up scheduled, encrypted backups of the agent (workspace, config, cron jobs, memory)?", true);
  if (!want) return undefined;
  const others = PROVIDER_CHOICES.filter((c) => c.value !== "off") as Choice<RemoteProvider>[];
  const choices: Choice<"same" | RemoteProvider>[] = sync
    ? [{ value: "same", label: `Same place as the sync (${PROVIDER_LABEL[sync.remote.provider]})`, hint: "a folder beside the synced one" }, ...others]
    : others;
  const where = await ask.select<"same" | RemoteProvider>("backup-provider", "Where should the backups go?", choices, sync ? "same" : undefined);
  if (where === "same" && !sync) throw new Error("unreachable: no sync remote to share");
  const remote = where === "same" ? undefined : await askRemote(ask, "backup", where);
  const prefix = await ask.text("backup-prefix", "Folder for the snapshots", { defaultValue: DEFAULT_BACKUP_PREFIX, check: (v) => checkBackup("prefix", v) });
  const encrypt = await ask.select<BackupEncryption>(
    "backup-encrypt",
    "How should the snapshots be encrypted? (age format: `age -d` decrypts them anywhere)",
    [
      { value: "passphrase", label: "Passphrase", hint: "stored in <stateDir>/.env; you need it to restore" },
      { value: "recipients", label: "age public keys", hint: "this machine can write backups it cannot read; restore needs the private key" },
      { value: "none", label: "No encryption", hint: "then only workspace, cron and memory are backed up (no credentials)" },
    ],
    "passphrase",
  );
  let passphrase: Secret | undefined;
  let recipients: string[] | undefined;
  if (encrypt === "passphrase") {
    passphrase = await askPassphrase(ask, envFile);
  } else if (encrypt === "recipients") {
    recipients = await ask.list("backup-recipient", "age public keys (age1…; separate several with spaces)", {
      required: "give at least one age public key (age-keygen prints it)",
      placeholder: "age1…",
      check: (v) => checkBackup("recipients", [v]),
    });
  } else ask.ui.warn("Snapshots will not be encrypted: only workspace, cron and memory are backed up (config, credentials and .env hold secrets).");
  let retain: BackupAnswers["retain"] = DEFAULT_RETAIN;
  const retainText = await ask.text("backup-retain", "Snapshots to keep (a number, or periods like daily=7,weekly=4)", {
    defaultValue: String(DEFAULT_RETAIN),
    check: (v) => {
      const r = parseRetain(v);
      return typeof r === "object" && "error" in r ? (r.error as string) : undefined;
    },
  });
  retain = parseRetain(retainText) as BackupAnswers["retain"];
  const interval = Number(
    await ask.text("backup-interval", "Back up every how many seconds? (300 or more; 86400 = daily)", {
      defaultValue: String(DEFAULT_BACKUP_INTERVAL),
      check: (v) => checkSeconds(v, (n) => checkBackup("interval", n)),
    }),
  );
  return {
    ...(remote ? { remote } : {}),
    prefix,
    encrypt,
    ...(passphrase ? { passphrase } : {}),
    ...(recipients ? { recipients } : {}),
    retain,
    interval,
  };
}

/**
 * Every question from provider to backup retention; the answers, not yet written anywhere. `envFile` is where the
 * secrets will be kept (<stateDir>/.env), for what the questions say about them.
 */
export async function askAnswers(ask: Asker, o: { rclonePath?: string; envFile?: string } = {}): Promise<SetupAnswers> {
  const rclonePath = o.rclonePath;
  const provider = await ask.select("provider", "Where should the workspace sync to?", PROVIDER_CHOICES);
  const sync = provider === "off" ? undefined : await askSync(ask, provider);
  const backup = await askBackup(ask, sync, o.envFile ?? "<stateDir>/.env");
  if (!sync && !backup) ask.ui.warn("Neither sync nor backups: the plugin will stay idle.");
  return { ...(sync ? { sync } : {}), ...(backup ? { backup } : {}), ...(rclonePath ? { rclonePath } : {}) };
}
