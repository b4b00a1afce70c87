// The age v1 header: recipient stanzas that wrap the file key, authenticated by an HMAC under a key
// derived from the file key. https://age-encryption.org/v1
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scrypt, scryptSync, timingSafeEqual, generateKeyPairSync } from "node:crypto";
import { badHeader, wrongKey } from "./errors.js";
import { parseIdentity, parseRecipient, rawPublic, x25519 } from "./keys.js";

export const INTRO = "age-encryption.org/v1";
const SCRYPT_LABEL = "age-encryption.org/v1/scrypt";
const X25519_LABEL = "age-encryption.org/v1/X25519";
const ZERO_NONCE = Buffer.alloc(12);
const MAX_WORK_FACTOR = 22;

export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");

function unb64(s: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(s)) throw badHeader("invalid base64");
  const buf = Buffer.from(s, "base64");
  if (b64(buf) !== s) throw badHeader("non-canonical base64");
  return buf;
}

export function hkdf(ikm: Buffer, salt: Buffer, info: string, length = 32): Buffer {
  return Buffer.from(hkdfSync("sha256", ikm, salt, info, length));
}

function seal(key: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: 16 });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length !== 32) return undefined;
  try {
    const d = createDecipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: 16 });
    d.setAuthTag(sealed.subarray(16));
    return Buffer.concat([d.update(sealed.subarray(0, 16)), d.final()]);
  } catch {
    return undefined;
  }
}

const scryptParams = (workFactor: number) => {
  const N = 2 ** workFactor;
  return { N, r: 8, p: 1, maxmem: 256 * N * 8 + (64 << 20) };
};
const scryptSalt = (salt: Buffer) => Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]);

function scryptKey(passphrase: string, salt: Buffer, workFactor: number): Buffer {
  return scryptSync(Buffer.from(passphrase, "utf8"), scryptSalt(salt), 32, scryptParams(workFactor));
}

/**
 * The scrypt recipient stanza, derived on the thread pool: a writer starts its stream (walk, tar, compression) while
 * the key is derived instead of waiting ~0.2 s for it on the main thread.
 */
export function scryptStanza(fileKey: Buffer, passphrase: string, workFactor = 18): Promise<Stanza> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) =>
    scrypt(Buffer.from(passphrase, "utf8"), scryptSalt(salt), 32, scryptParams(workFactor), (err, key) =>
      err ? reject(err) : resolve({ type: "scrypt", args: [b64(salt), String(workFactor)], body: seal(key, fileKey) }),
    ),
  );
}

export function x25519Stanza(fileKey: Buffer, recipient: string): Stanza {
  const theirs = parseRecipient(recipient);
  const { privateKey } = generateKeyPairSync("x25519");
  const share = rawPublic(privateKey);
  const shared = x25519(privateKey, theirs);
  const wrapKey = hkdf(shared, Buffer.concat([share, theirs]), X25519_LABEL);
  return { type: "X25519", args: [b64(share)], body: seal(wrapKey, fileKey) };
}

function encodeStanza(s: Stanza): string {
  const body = b64(s.body);
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += 64) lines.push(body.slice(i, i + 64));
  if (body.length % 64 === 0) lines.push(""); // the last body line is always shorter than 64 columns
  return `-> ${[s.type, ...s.args].join(" ")}\n${lines.join("\n")}\n`;
}

export function encodeHeader(fileKey: Buffer, stanzas: Stanza[]): Buffer {
  const withoutMac = `${INTRO}\n${stanzas.map(encodeStanza).join("")}---`;
  const mac = createHmac("sha256", hkdf(fileKey, Buffer.alloc(0), "header")).update(withoutMac).digest();
  return Buffer.from(`${withoutMac} ${b64(mac)}\n`);
}

export interface ParsedHeader {
  stanzas: Stanza[];
  /** Header bytes up to and including "---", which the MAC covers. */
  macInput: Buffer;
  mac: Buffer;
  /** Total header length in bytes (payload starts here). */
  length: number;
}

/** Parses a header from the start of buf; undefined when more bytes are needed. */
export function parseHeader(buf: Buffer): ParsedHeader | undefined {
  const lines: string[] = [];
  let pos = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) {
      if (buf.length > 1 << 20) throw badHeader("header too long");
      return undefined;
    }
    const line = buf.subarray(pos, nl).toString("latin1");
    pos = nl + 1;
    lines.push(line);
    if (line.startsWith("---")) break;
  }
  if (lines[0] !== INTRO) throw badHeader("unknown version line");
  const stanzas: Stanza[] = [];
  let i = 1;
  while (i < lines.length - 1) {
    const line = lines[i]!;
    if (!line.startsWith("-> ")) throw badHeader("expected a stanza");
    const [type, ...args] = line.slice(3).split(" ");
    if (!type || args.some((a) => a === "")) throw badHeader("malformed stanza line");
    i++;
    const body: string[] = [];
    for (;;) {
      const b = lines[i];
      if (b === undefined || b.startsWith("---")) throw badHeader("stanza body not terminated");
      if (b.length > 64) throw badHeader("stanza body line too long");
      body.push(b);
      i++;
      if (b.length < 64) break;
    }
    stanzas.push({ type, args, body: unb64(body.join("")) });
  }
  const last = lines[lines.length - 1]!;
  const m = /^--- ([A-Za-z0-9+/]{43})$/.exec(last);
  if (!m) throw badHeader("malformed MAC line");
  if (stanzas.length === 0) throw badHeader("no recipients");
  const macInputEnd = pos - (last.length + 1) + 3;
  return { stanzas, macInput: buf.subarray(0, macInputEnd), mac: unb64(m[1]!), length: pos };
}

export interface Unlock {
  passphrase?: string;
  identities?: string[];
}

/** Recovers the file key from the stanzas and checks the header MAC. */
export function unwrapFileKey(header: ParsedHeader, unlock: Unlock): Buffer {
  let fileKey: Buffer | undefined;
  const scrypt = header.stanzas.filter((s) => s.type === "scrypt");
  if (scrypt.length > 0 && header.stanzas.length > 1) throw badHeader("an scrypt stanza must be the only one");
  for (const s of header.stanzas) {
    if (fileKey) break;
    if (s.type === "scrypt" && unlock.passphrase !== undefined) {
      if (s.args.length !== 2 || !/^[1-9][0-9]?$/.test(s.args[1]!)) throw badHeader("malformed scrypt stanza");
      const wf = Number(s.args[1]);
      if (wf > MAX_WORK_FACTOR) throw badHeader(`scrypt work factor ${wf} is too large`);
      const salt = unb64(s.args[0]!);
      if (salt.length !== 16) throw badHeader("malformed scrypt salt");
      fileKey = open(scryptKey(unlock.passphrase, salt, wf), s.body);
    } else if (s.type === "X25519" && unlock.identities?.length) {
      if (s.args.length !== 1) throw badHeader("malformed X25519 stanza");
      const share = unb64(s.args[0]!);
      if (share.length !== 32 || s.body.length !== 32) throw badHeader("malformed X25519 stanza");
      for (const id of unlock.identities) {
        const priv = parseIdentity(id);
        const shared = x25519(priv, share);
        if (shared.every((b) => b === 0)) throw badHeader("low-order X25519 share");
        const ours = rawPublic(priv);
        fileKey = open(hkdf(shared, Buffer.concat([share, ours]), X25519_LABEL), s.body);
        if (fileKey) break;
      }
    }
  }
  if (!fileKey) throw wrongKey();
  const mac = createHmac("sha256", hkdf(fileKey, Buffer.alloc(0), "header")).update(header.macInput).digest();
  if (!timingSafeEqual(mac, header.mac)) throw wrongKey();
  return fileKey;
}
