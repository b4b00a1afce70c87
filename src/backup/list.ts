// `backup list`: the repository's complete snapshots (newest first), the older plugin's legacy ones, and any
// damaged ones — never leftovers or foreign files.
import type { AppContext } from "../app/context.js";
import { listRepository } from "./formats/archive/listing.js";
import { openRepository } from "./setup.js";

export interface SnapshotList {
  repository: string;
  snapshots: {
    name: string;
    created: string;
    host: string;
    agent: string;
    files: number;
    bytes: number;
    storedBytes: number;
    compression: string;
    encryption: string;
    items: string[];
    missing: string[];
  }[];
  legacy: { name: string; time: string; storedBytes: number; encrypted: boolean }[];
  damaged: { name: string; problem: string }[];
  /** Objects of interrupted runs (cleaned by the next backup or prune). */
  leftovers: number;
}

export async function listSnapshots(ctx: AppContext): Promise<SnapshotList> {
  const setup = await openRepository(ctx);
  const listing = await listRepository(setup.access);
  return {
    repository: setup.remote.display,
    snapshots: listing.snapshots.map(({ name, manifest: m }) => ({
      name,
      created: m.created,
      host: m.host,
      agent: m.agent,
      files: m.files,
      bytes: m.bytes,
      storedBytes: m.stored.size,
      compression: m.compression,
      encryption: m.encryption.scheme === "none" ? "none" : `age (${m.encryption.recipientType === "scrypt" ? "passphrase" : "recipients"})`,
      items: [...new Set(m.items.map((i) => i.item))],
      missing: m.missingItems ?? [],
    })),
    legacy: listing.legacy.map((l) => ({ name: l.name, time: l.time.toISOString(), storedBytes: l.size, encrypted: l.encrypted })),
    damaged: listing.damaged.map((d) => ({ name: d.name, problem: d.problem })),
    leftovers: listing.leftovers.length,
  };
}
