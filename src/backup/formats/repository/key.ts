// Key files (keys/<sha256 of the file>): plain JSON holding the master key encrypted with a key derived from a
// password by scrypt (restic internal/repository/key.go, internal/crypto/kdf.go). A repository can have several; any
// one opens it. Passwords never appear in errors.
import { createHash, scrypt as scryptCb, randomBytes, type ScryptOptions } from "node:crypto";
import os from "node:os";
import { AuthenticationError, type CryptoKey, keyFromKdfOutput, masterKeyFromJson, masterKeyToJson, open, seal } from "./crypto.js";
import { IntegrityError, NotARepositoryError, NotFoundError, WrongPasswordError } from "./errors.js";
import { hashId, type Id, isId } from "./ids.js";
import type { CallOptions, Storage } from "./storage.js";

export const SALT_BYTES = 64;
const KDF_BYTES = 64;
/** A hostile key file must not make us allocate gigabytes: real keys use 32 MiB (N=32768, r=8). */
const MAX_KDF_MEMORY = 1 << 30;

export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

/** restic's defaults before calibration (simple-scrypt: 128·r·N < 60 MiB with r = 8). */
export const DEFAULT_KDF: KdfParams = { N: 32768, r: 8, p: 1 };

export interface KeyFile {
  created: string;
  username: string;
  hostname: string;
  kdf: string;
  N: number;
  r: number;
  p: number;
  salt: string;
  data: string;
}

/** A local store of key files by ID (content-addressed: get returns only bytes that hash to the ID). */
export interface KeyFileCache {
  get(id: Id): Promise<Buffer | undefined>;
  put(id: Id, bytes: Buffer): Promise<unknown>;
}

export interface OpenedKey {
  /** Name of the key file that opened (keys/<id>). */
  id: Id;
  master: CryptoKey;
  file: KeyFile;
}

/** simple-scrypt Params.Check plus x/crypto/scrypt's limits: what restic accepts. */
export function checkKdfParams(p: KdfParams): void {
  const int = (v: number) => Number.isSafeInteger(v) && v > 0;
  if (!int(p.N) || p.N <= 1 || (p.N & (p.N - 1)) !== 0) throw new Error(`scrypt N=${p.N} must be a power of two above 1`);
  if (!int(p.r) || !int(p.p)) throw new Error(`scrypt r=${p.r} and p=${p.p} must be positive integers`);
  if (p.r * p.p >= 2 ** 30 || p.N > 2 ** 31 / 128 / p.r) throw new Error(`scrypt parameters N=${p.N} r=${p.r} p=${p.p} are out of range`);
  if (128 * p.N * p.r > MAX_KDF_MEMORY) throw new Error(`scrypt parameters N=${p.N} r=${p.r} need more than 1 GiB of memory; refused`);
}

function scrypt(password: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  // Node refuses scrypt above `maxmem` (32 MiB by default), and restic's N=32768, r=8 needs exactly 32 MiB.
  const maxmem = 128 * params.r * (params.N + params.p + 2) + (16 << 20);
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem };
  return new Promise((resolve, reject) => scryptCb(password, salt, KDF_BYTES, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** The user key a password gives for this key file's salt and parameters (the one derived ahead, when it matches). */
export function deriveUserKey(password: string, salt: Buffer, params: KdfParams): Promise<CryptoKey> {
  const tag = ahead && kdfTag(password, salt, params);
  if (ahead && ahead.tag === tag) {
    const { key } = ahead;
    ahead = undefined;
    return key;
  }
  return computeUserKey(password, salt, params);
}

async function computeUserKey(password: string, salt: Buffer, params: KdfParams): Promise<CryptoKey> {
  if (salt.length !== SALT_BYTES) throw new Error(`the scrypt salt is ${salt.length} bytes; restic requires ${SALT_BYTES}`);
  checkKdfParams(params);
  return keyFromKdfOutput(await scrypt(password, salt, params));
}

/**
 * One derivation started ahead of need (deriveUserKeyAhead), found again by a digest of what it was derived from (the
 * password itself is not kept here).
 */
let ahead: { tag: string; key: Promise<CryptoKey> } | undefined;

function kdfTag(password: string, salt: Buffer, params: KdfParams): string {
  return createHash("sha256").update(password).update("\0").update(salt).update(`\0${params.N},${params.r},${params.p}`).digest("hex");
}

/**
 * Starts deriving the user key for a key file before it is needed: the scrypt (~0.3 s on the thread pool) of the key
 * that opened last time runs while the repository's folder is listed, instead of after. The next deriveUserKey with the
 * same password, salt and parameters takes it over; one that differs derives its own.
 */
export function deriveUserKeyAhead(password: string, salt: Buffer, params: KdfParams): void {
  const tag = kdfTag(password, salt, params);
  if (ahead?.tag === tag) return;
  const key = computeUserKey(password, salt, params);
  key.catch(() => {}); // a derivation nobody takes over fails nobody (deriveUserKey derives again and reports)
  ahead = { tag, key };
}

/** Forgets a derivation ahead that was not taken over (the user key should not outlive the opening it was for). */
export function dropUserKeyAhead(): void {
  ahead = undefined;
}

let calibrated: Promise<KdfParams> | undefined;

/**
 * restic's Calibrate(500 ms, 60 MiB): r = 8 and N = 32768 unless one run takes longer than 500 ms (then N is
 * halved), and p = how many runs fit in 500 ms. Measured once per process.
 */
export function calibrateKdf(): Promise<KdfParams> {
  calibrated ??= (async () => {
    const salt = randomBytes(SALT_BYTES);
    let N = DEFAULT_KDF.N;
    for (;;) {
      const t = performance.now();
      await scrypt("calibration", salt, { N, r: 8, p: 1 });
      const ms = performance.now() - t;
      if (ms > 500 && N > 1024) {
        N /= 2;
        continue;
      }
      return { N, r: 8, p: Math.max(1, Math.floor(500 / Math.max(ms, 1))) };
    }
  })();
  return calibrated;
}

export function parseKeyFile(bytes: Buffer, id: Id): KeyFile {
  let doc: Partial<KeyFile>;
  try {
    doc = JSON.parse(bytes.toString("utf8")) as Partial<KeyFile>;
  } catch {
    throw new IntegrityError(`key file keys/${id} is not valid JSON`, `keys/${id}`);
  }
  if (doc.kdf !== "scrypt") throw new IntegrityError(`key file keys/${id} uses KDF ${JSON.stringify(doc.kdf)}; only scrypt is supported`, `keys/${id}`);
  if (typeof doc.salt !== "string" || typeof doc.data !== "string") throw new IntegrityError(`key file keys/${id} has no salt or data`, `keys/${id}`);
  return doc as KeyFile;
}

/** Opens one key file with a password; AuthenticationError when the password is not this key's. */
export async function openKeyFile(file: KeyFile, id: Id, password: string): Promise<OpenedKey> {
  const user = await deriveUserKey(password, Buffer.from(file.salt, "base64"), { N: file.N, r: file.r, p: file.p });
  const plain = open(user, Buffer.from(file.data, "base64"));
  let master: CryptoKey;
  try {
    master = masterKeyFromJson(plain.toString("utf8"));
  } catch (err) {
    throw new IntegrityError(`key file keys/${id} decrypts but holds no valid master key: ${(err as Error).message}`, `keys/${id}`);
  }
  return { id, master, file };
}

/** Loads keys/<id>, checking that its bytes hash to its name (restic's LoadRaw does the same). */
export async function loadKeyFile(storage: Storage, id: Id, opts?: CallOptions): Promise<KeyFile> {
  return parseKeyFile((await keyFileBytes(storage, id, opts)).bytes, id);
}

/** A key file's bytes, checked against its name; from `cache` when it holds it (a copy that matches is the file). */
async function keyFileBytes(storage: Storage, id: Id, opts?: CallOptions, cache?: KeyFileCache): Promise<{ bytes: Buffer; fromCache: boolean }> {
  const cached = await cache?.get(id);
  if (cached) return { bytes: cached, fromCache: true };
  const bytes = await storage.load("keys", id, undefined, opts);
  if (hashId(bytes) !== id) throw new IntegrityError(`key file keys/${id} does not match its name (damaged or tampered)`, `keys/${id}`);
  await cache?.put(id, bytes);
  return { bytes, fromCache: false };
}

/**
 * Tries every key file (the hinted one first) with the password. Damaged key files are skipped while another key
 * opens; if none opens, the error says so without naming the password.
 */
export async function searchKey(storage: Storage, password: string, opts: CallOptions & { hint?: Id; cache?: KeyFileCache } = {}): Promise<OpenedKey & { fromCache?: boolean }> {
  // The key that opened last time, read directly (from the local copy when there is one): no listing of keys/ when
  // it still opens.
  let tried: Id | undefined;
  if (opts.hint && isId(opts.hint)) {
    tried = opts.hint;
    try {
      const { bytes, fromCache } = await keyFileBytes(storage, opts.hint, opts, opts.cache);
      return { ...(await openKeyFile(parseKeyFile(bytes, opts.hint), opts.hint, password)), fromCache };
    } catch (err) {
      if (!(err instanceof AuthenticationError || err instanceof IntegrityError || err instanceof NotFoundError)) throw err;
    }
  }
  const listed = (await storage.list("keys", opts)).map((f) => f.name).filter(isId);
  if (listed.length === 0) throw new NotARepositoryError(`no key files in keys/ at ${storage.location}: this is not a restic repository (or not an initialised one)`);
  const ids = opts.hint && listed.includes(opts.hint) ? [opts.hint, ...listed.filter((id) => id !== opts.hint)] : listed;
  const toTry = ids.filter((id) => id !== tried);
  const damaged: string[] = [];
  for (const id of toTry) {
    opts.signal?.throwIfAborted();
    try {
      return await openKeyFile(await loadKeyFile(storage, id, opts), id, password);
    } catch (err) {
      if (err instanceof AuthenticationError) continue;
      if (err instanceof IntegrityError) {
        damaged.push(err.message);
        continue;
      }
      throw err;
    }
  }
  const also = damaged.length ? ` (and ${damaged.length} key file${damaged.length > 1 ? "s are" : " is"} damaged: ${damaged.join("; ")})` : "";
  throw new WrongPasswordError(`wrong password: none of the ${ids.length} key file${ids.length > 1 ? "s" : ""} of the repository at ${storage.location} opens with it${also}`);
}

/** Go's time.RFC3339Nano in UTC (trailing zeros of the fraction dropped, "Z"). */
export function goTimeUtc(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, "Z");
}

/** A key file for `master` under `password`, as restic's AddKey writes it (field order included). */
export async function makeKeyFile(password: string, master: CryptoKey, params: KdfParams, now = new Date()): Promise<{ id: Id; bytes: Buffer; file: KeyFile }> {
  if (password.length === 0) throw new Error("an empty password cannot protect a repository key");
  const salt = randomBytes(SALT_BYTES);
  const user = await deriveUserKey(password, salt, params);
  const data = seal(user, Buffer.from(masterKeyToJson(master), "utf8"));
  let username = "";
  try {
    username = os.userInfo().username;
  } catch {
    // no passwd entry (containers): restic leaves it empty too
  }
  const file: KeyFile = {
    created: goTimeUtc(now),
    username,
    hostname: os.hostname(),
    kdf: "scrypt",
    N: params.N,
    r: params.r,
    p: params.p,
    salt: salt.toString("base64"),
    data: data.toString("base64"),
  };
  const bytes = Buffer.from(JSON.stringify(file), "utf8");
  return { id: hashId(bytes), bytes, file };
}

/** Stores a new key file for `master` (a first key at init, or a second password later). Returns its ID. */
export async function addKey(storage: Storage, password: string, master: CryptoKey, opts: CallOptions & { params?: KdfParams; cache?: KeyFileCache } = {}): Promise<Id> {
  const made = await makeKeyFile(password, master, opts.params ?? (await calibrateKdf()));
  await storage.save("keys", made.id, made.bytes, opts);
  await opts.cache?.put(made.id, made.bytes);
  return made.id;
}
