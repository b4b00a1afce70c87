// rclone's "obscure" encoding for password options in rclone.conf (AES-256-CTR with rclone's fixed key).
// Done in-process so a secret never passes through a child's argv or stdin.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

// The fixed key from rclone's fs/config/obscure package. Obscuring is not encryption: it only stops
// shoulder-surfing, exactly as rclone documents.
const KEY = Buffer.from("9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638", "hex");
const IV_BYTES = 16;

export function obscure(plain: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-ctr", KEY, iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, body]).toString("base64url");
}

/** rclone's Reveal(): unpadded base64url (Go's RawURLEncoding) of IV + AES-CTR body; undefined when it fails. */
function revealBytes(obscured: string): Buffer | undefined {
  // Node's base64url decoder skips characters it does not know; Go's refuses them, and a length of 4n+1.
  if (!/^[A-Za-z0-9_-]*$/.test(obscured) || obscured.length % 4 === 1) return undefined;
  const raw = Buffer.from(obscured, "base64url");
  if (raw.length < IV_BYTES) return undefined;
  const decipher = createDecipheriv("aes-256-ctr", KEY, raw.subarray(0, IV_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES)), decipher.final()]);
}

export function reveal(obscured: string): string {
  const bytes = revealBytes(obscured);
  if (!bytes) throw new Error("value is not an rclone-obscured string");
  return bytes.toString("utf8");
}

/**
 * True when `value` is already obscured, as copied from an existing rclone.conf. rclone's own `config create`
 * takes a password option that `Reveal()` accepts as obscured and obscures anything else; this adds that the revealed
 * password must be text (valid UTF-8, no control characters, not empty), which a plain password that merely looks like
 * base64 almost never reveals to. The ambiguity rclone documents remains for plain passwords of 23-24 base64url
 * characters: write those obscured (`rclone obscure`) to be sure.
 */
export function isObscured(value: string): boolean {
  const bytes = revealBytes(value);
  if (!bytes || bytes.length === 0) return false;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  return !/[\u0000-\u001f\u007f-\u009f]/.test(text);
}

/** The value for a password option in rclone.conf: kept when already obscured, obscured otherwise. */
export function obscureOnce(value: string): string {
  return isObscured(value) ? value : obscure(value);
}
