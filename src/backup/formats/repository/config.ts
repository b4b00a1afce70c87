// The repository's `config` file: encrypted with the master key, plain JSON inside (no version byte and no
// compression, even in v2, because it is read before the version is known), no trailing newline (Go json.Marshal).
// restic reads versions 1 and 2 and refuses a chunker polynomial that is not irreducible.
import { randomBytes } from "node:crypto";
import { AuthenticationError, type CryptoKey, open, seal } from "./crypto.js";
import { IntegrityError, NotARepositoryError, UnsupportedFormatError } from "./errors.js";
import { type Id, isId } from "./ids.js";
import { parsePolynomial, polynomialToHex, randomPolynomial } from "./polynomial.js";
import type { CallOptions, Storage } from "./storage.js";

export const MIN_REPO_VERSION = 1;
export const MAX_REPO_VERSION = 2;

export interface RepoConfig {
  version: number;
  /** Repository ID: 32 random bytes as hex. */
  id: Id;
  chunkerPolynomial: bigint;
}

export function newConfig(version = 2): RepoConfig {
  return { version, id: randomBytes(32).toString("hex"), chunkerPolynomial: randomPolynomial() };
}

export function encodeConfig(cfg: RepoConfig): string {
  return JSON.stringify({ version: cfg.version, id: cfg.id, chunker_polynomial: polynomialToHex(cfg.chunkerPolynomial) });
}

export function parseConfig(text: string, location: string): RepoConfig {
  let doc: { version?: unknown; id?: unknown; chunker_polynomial?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new IntegrityError(`the config file of the repository at ${location} is not valid JSON`, "config");
  }
  const version = doc.version;
  if (typeof version !== "number" || !Number.isInteger(version) || version < MIN_REPO_VERSION) {
    throw new IntegrityError(`the config file of the repository at ${location} has no valid version (${JSON.stringify(version)})`, "config");
  }
  if (version > MAX_REPO_VERSION) {
    throw new UnsupportedFormatError(
      `the repository at ${location} uses restic format version ${version}, newer than this program reads (${MIN_REPO_VERSION}–${MAX_REPO_VERSION}); update workspace-sync, or use a restic release that knows version ${version}`,
    );
  }
  if (!isId(doc.id)) throw new IntegrityError(`the config file of the repository at ${location} has no valid repository id`, "config");
  let chunkerPolynomial: bigint;
  try {
    chunkerPolynomial = parsePolynomial(doc.chunker_polynomial);
  } catch (err) {
    throw new IntegrityError(`the config file of the repository at ${location} is invalid: ${(err as Error).message}`, "config");
  }
  return { version, id: doc.id, chunkerPolynomial };
}

/** Is there a config file at all? (A folder without one is not a restic repository.) */
export async function hasConfig(storage: Storage, opts?: CallOptions): Promise<boolean> {
  return (await storage.stat("config", "", opts)) !== undefined;
}

export async function loadConfig(storage: Storage, key: CryptoKey, opts: CallOptions & { keyId?: Id } = {}): Promise<RepoConfig> {
  let bytes: Buffer;
  try {
    bytes = await storage.load("config", "", undefined, opts);
  } catch (err) {
    if ((err as { status?: number }).status === 404) throw new NotARepositoryError(`there is no restic repository at ${storage.location} (no config file)`);
    throw err;
  }
  let plain: Buffer;
  try {
    plain = open(key, bytes);
  } catch (err) {
    if (err instanceof AuthenticationError) {
      throw new IntegrityError(`the config file of the repository at ${storage.location} does not authenticate with key ${opts.keyId ? `keys/${opts.keyId}` : "in use"}: config or key is damaged`, "config");
    }
    throw err;
  }
  return parseConfig(plain.toString("utf8"), storage.location);
}

export async function saveConfig(storage: Storage, key: CryptoKey, cfg: RepoConfig, opts?: CallOptions): Promise<void> {
  await storage.save("config", "", seal(key, Buffer.from(encodeConfig(cfg), "utf8")), opts);
}
