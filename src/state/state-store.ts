// Persisted run state (0600 JSON, replaced atomically) so every process — service, hooks, CLI — sees it.
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../util/atomic-file.js";

export async function readJson<T>(file: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    return fallback;
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, 0o600);
}

/** Read-modify-write; callers hold the lock that owns this file. */
export async function updateJson<T>(file: string, fallback: T, change: (current: T) => T | void): Promise<T> {
  const current = await readJson(file, fallback);
  const next = (change(current) ?? current) as T;
  await writeJson(file, next);
  return next;
}
