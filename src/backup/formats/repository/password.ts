// The repository's password, by the backup's key settings.
//
// - `passphrase`: it is the password of a restic key file (scrypt), so `restic -r …` opens the repository with it.
// - `recipients` (age public keys): writing a deduplicating repository needs its master key, so the gateway must be
//   able to decrypt; no model keeps "the server cannot read old backups" here (the archive format does). Instead a
//   random password is made when the repository is created, kept 0600 in the state dir, and stored age-encrypted to
//   the recipients beside the repository (KEY_COPY_OBJECT). A fresh machine recovers it with the identity file
//   (`backup.identityFile` or --identity), and restic users with `age -d -i key.txt` on that object.
// The password never reaches argv, a child's environment, a log or an error message.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BackupConfig } from "../../../config/types.js";
import { runRclone } from "../../../rclone/runner.js";
import { productDir } from "../../../state/paths.js";
import { writeFileAtomic } from "../../../util/atomic-file.js";
import { UsageError } from "../../../util/errors.js";
import { AgeError, createAgeDecryptStream, createAgeEncryptStream } from "../../crypto/index.js";
import { readIdentities } from "../../keys.js";
import { uploadObject } from "../archive/transfer.js";
import type { Folder } from "../folder.js";

/** The age-encrypted repository password (recipients mode), beside `config`. restic ignores files it does not know. */
export const KEY_COPY_OBJECT = "openclaw-workspace-sync.repository-password.age";

export function passwordFile(stateDir: string): string {
  return path.join(productDir(stateDir), "repository-passwords.json");
}

type Passwords = Record<string, string>;

async function readPasswords(file: string): Promise<Passwords> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Passwords) : {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? "not JSON"} (it holds the backup repository's password; restore it from a backup of the state dir, or recover it with the identity file)`);
  }
}

async function remember(file: string, where: string, password: string): Promise<void> {
  const all = await readPasswords(file);
  all[where] = password;
  await writeFileAtomic(file, `${JSON.stringify(all, null, 2)}\n`, 0o600);
}

export interface PasswordOptions {
  config: BackupConfig;
  stateDir: string;
  folder: Folder;
  /** The folder holds no repository yet: a recipients password may be made. */
  creating: boolean;
  /** Identities already read (--identity on the command line): tried before backup.identityFile. */
  identities?: string[];
}

/** The password that opens (or will create) the repository in the folder. */
export async function repositoryPassword(opts: PasswordOptions): Promise<string> {
  const { config, folder } = opts;
  if (config.passphrase) return config.passphrase;
  if (!config.encrypt || config.recipients.length === 0) {
    throw new UsageError('the repository format is always encrypted: set "encrypt": true with a "passphrase" or "recipients" (or use "format": "archive")');
  }
  const file = passwordFile(opts.stateDir);
  const where = folder.remote.display;
  const known = (await readPasswords(file))[where];
  if (known) return known;
  const objects = await folder.objects();
  if (objects.has(KEY_COPY_OBJECT)) return recover(opts, file, where);
  if (!opts.creating) {
    throw new UsageError(
      `the repository at ${where} has no ${KEY_COPY_OBJECT} and this machine does not know its password (${file}): it was not made by this product with recipients; set backup.passphrase to its password`,
    );
  }
  // New repository: keep the password locally first (a crash after the upload must not lose it), then beside it.
  const password = randomBytes(32).toString("base64url");
  await remember(file, where, password);
  await uploadObject({
    ...folder.access,
    name: KEY_COPY_OBJECT,
    stages: [Readable.from([Buffer.from(password)]), createAgeEncryptStream({ recipients: config.recipients })],
    expectedBytes: 0,
  });
  folder.refresh();
  return password;
}

async function recover(opts: PasswordOptions, file: string, where: string): Promise<string> {
  const identityFile = opts.identities?.length ? "the identity given" : opts.config.identityFile;
  if (!identityFile) {
    throw new UsageError(
      `this machine does not know the repository's password (${file}); it is stored age-encrypted in ${where}/${KEY_COPY_OBJECT}: set backup.identityFile (or pass --identity) to the identity file of one of the recipients`,
    );
  }
  const identities = opts.identities?.length ? opts.identities : await readIdentities(identityFile);
  const sealed = await download(opts.folder, KEY_COPY_OBJECT);
  const chunks: Buffer[] = [];
  try {
    await pipeline(
      Readable.from([sealed]),
      createAgeDecryptStream({ identities }),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          chunks.push(chunk);
          cb();
        },
      }),
    );
  } catch (err) {
    if (err instanceof AgeError) throw new UsageError(`${identityFile} does not open ${KEY_COPY_OBJECT} (${err.message}): it is not the identity of one of the backup's recipients`);
    throw err;
  }
  const password = Buffer.concat(chunks).toString("utf8");
  await remember(file, where, password);
  return password;
}

async function download(folder: Folder, name: string): Promise<Buffer> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  const res = await runRclone(folder.access.bin, {
    args: ["cat", folder.remote.path(name)],
    configPath: folder.remote.configPath,
    env: folder.access.env,
    signal: folder.access.signal,
    stdout: { pipe: sink },
    timeoutMs: 120_000,
    stallProbe: folder.access.stallProbe,
  });
  if (res.code !== 0) throw new UsageError(`cannot read ${name} in ${folder.remote.display}: ${res.errors.join("; ") || `rclone exit ${res.code}`}`);
  return Buffer.concat(chunks);
}
