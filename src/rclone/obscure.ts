// rclone's "obscure" encoding for password options in rclone.conf (AES-256-CTR with rclone's fixed key).
// Done in-process so a secret never passes through a child's argv or stdin.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

// The fixed key from rclone's fs/config/obscure package. Obscuring is not encryption: it only stops
// shoulder-surfing, exactly as rclone documents.
const KEY = Buffer.from("9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638", "hex");

export function obscure(plain: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-ctr", KEY, iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, body]).toString("base64url");
}

export function reveal(obscured: string): string {
  const raw = Buffer.from(obscured, "base64url");
  if (raw.length < 16) throw new Error("value is not an rclone-obscured string");
  const decipher = createDecipheriv("aes-256-ctr", KEY, raw.subarray(0, 16));
  return Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]).toString("utf8");
}
