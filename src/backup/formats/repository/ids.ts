// Repository IDs: 32-byte SHA-256 values, written as 64 lowercase hex characters (restic's ID type).
import { createHash, hash } from "node:crypto";

/** 64 lowercase hex characters. Blob, pack, index, snapshot, key and lock names are all IDs. */
export type Id = string;

export const ID_BYTES = 32;
const ID_RE = /^[0-9a-f]{64}$/;

export function isId(value: unknown): value is Id {
  return typeof value === "string" && ID_RE.test(value);
}

/** Checks a string from storage or a user; `what` names where it came from in the error. */
export function parseId(value: unknown, what: string): Id {
  if (typeof value === "string" && /^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  throw new Error(`${what}: ${JSON.stringify(String(value).slice(0, 80))} is not a 64-character hex ID`);
}

/** SHA-256 of the bytes as an ID. */
export function hashId(...parts: Uint8Array[]): Id {
  if (parts.length === 1) return hash("sha256", parts[0]!, "hex"); // one-shot: no Hash object per blob
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

export function idToBytes(id: Id): Buffer {
  return Buffer.from(id, "hex");
}

export function bytesToId(bytes: Uint8Array): Id {
  return Buffer.from(bytes.buffer, bytes.byteOffset, ID_BYTES).toString("hex");
}

/** The 8-character form restic prints. */
export function shortId(id: Id): string {
  return id.slice(0, 8);
}
