// X25519 keys in age's encodings, using node:crypto only.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from "node:crypto";
import { bech32Decode, bech32Encode } from "./bech32.js";

const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");

export function privateKeyFromRaw(raw: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: "der", type: "pkcs8" });
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: "der", type: "spki" });
}

export function rawPublic(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({ format: "der", type: "spki" });
  return Buffer.from(der.subarray(der.length - 32));
}

export function rawPrivate(key: KeyObject): Buffer {
  const der = key.export({ format: "der", type: "pkcs8" });
  return Buffer.from(der.subarray(der.length - 32));
}

export function x25519(privateKey: KeyObject, publicRaw: Buffer): Buffer {
  return diffieHellman({ privateKey, publicKey: publicKeyFromRaw(publicRaw) });
}

export function parseRecipient(text: string): Buffer {
  const { hrp, data } = bech32Decode(text.trim());
  if (hrp !== "age" || data.length !== 32) throw new Error("not an age X25519 recipient (age1…)");
  return data;
}

export function parseIdentity(text: string): KeyObject {
  const { hrp, data } = bech32Decode(text.trim());
  if (hrp !== "age-secret-key-" || data.length !== 32) throw new Error("not an age X25519 identity (AGE-SECRET-KEY-1…)");
  return privateKeyFromRaw(data);
}

/** Identities from an age-keygen style file: one AGE-SECRET-KEY-1… per line, # comments. */
export function parseIdentityFile(text: string): string[] {
  const ids = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  for (const id of ids) parseIdentity(id);
  if (ids.length === 0) throw new Error("the identity file holds no AGE-SECRET-KEY-1… line");
  return ids;
}

export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey } = generateKeyPairSync("x25519");
  return {
    identity: bech32Encode("AGE-SECRET-KEY-", rawPrivate(privateKey)).toUpperCase(),
    recipient: bech32Encode("age", rawPublic(privateKey)),
  };
}

export function recipientOf(identity: string): string {
  return bech32Encode("age", rawPublic(parseIdentity(identity)));
}
