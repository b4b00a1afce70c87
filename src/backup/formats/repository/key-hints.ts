// Which key file opened each repository last time, kept beside the local cache: the next run reads that key file
// directly instead of listing keys/ first (a request less per run; restic keeps the same hint in memory only).
// Key file IDs are names, not secrets; the file is still 0600 like everything under the state dir.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Id, isId } from "./ids.js";

const FILE = "key-hints.json";

async function readHints(cacheDir: string): Promise<Record<string, string>> {
  try {
    return hintsOf(await readFile(path.join(cacheDir, FILE), "utf8"));
  } catch {
    return {};
  }
}

function hintsOf(text: string): Record<string, string> {
  const doc = JSON.parse(text) as unknown;
  return doc && typeof doc === "object" && !Array.isArray(doc) ? (doc as Record<string, string>) : {};
}

/** The key file that opened the repository at `location` last time, if recorded. */
export async function keyHint(cacheDir: string, location: string): Promise<Id | undefined> {
  const hint = (await readHints(cacheDir))[location];
  return hint && isId(hint) ? hint : undefined;
}

/** keyHint without a thread-pool round trip: for a caller that must not wait behind the main thread's other work. */
export function keyHintSync(cacheDir: string, location: string): Id | undefined {
  let hint: string | undefined;
  try {
    hint = hintsOf(readFileSync(path.join(cacheDir, FILE), "utf8"))[location];
  } catch {
    return undefined;
  }
  return hint && isId(hint) ? hint : undefined;
}

/** Records the key that opened the repository (best effort: a hint only saves a request). */
export async function rememberKey(cacheDir: string, location: string, keyId: Id): Promise<void> {
  const hints = await readHints(cacheDir);
  if (hints[location] === keyId) return;
  hints[location] = keyId;
  const file = path.join(cacheDir, FILE);
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, `${JSON.stringify(hints, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
}
