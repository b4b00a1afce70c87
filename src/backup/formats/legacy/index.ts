// The older plugin's snapshots, `backup-YYYYMMDDTHHMMSSZ.tar.gz` and `.tar.gz.enc` (`openssl enc -aes-256-cbc -salt
// -pbkdf2 -iter 100000`): read-only. Listed apart, verified (they decrypt, decompress and read to the end), restored
// with their own layout, and removed by retention only when asked (`prune --include-legacy`). They have no manifest:
// no host, agent or paths (no group), no record of their files. ID: the SHA-256 of the object name (stable; the
// names are unique in a folder). They are gzip tars like archive snapshots, so the archive's reader reads them.
import { createHash } from "node:crypto";
import type { Transform } from "node:stream";
import { UsageError } from "../../../util/errors.js";
import type { Unlock } from "../../crypto/index.js";
import { tallyEntries } from "../../entry-rules.js";
import type { BackupJob } from "../../job.js";
import { createDecompressor } from "../archive/codec.js";
import { readObjectEntries } from "../archive/read.js";
import type { CheckOptions, CheckReport, CheckResult, Committed, FormatListing, SnapshotReader, SnapshotSummary, StorageFormat } from "../format.js";
import type { Folder } from "../folder.js";
import { parseLegacyName } from "./naming.js";
import { createOpensslLegacyDecryptStream, LegacyDecryptError } from "./openssl.js";

export const LEGACY = "legacy";
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

function explain(err: Error & { code?: string }): string | undefined {
  if (err instanceof LegacyDecryptError) return err.message;
  if (err.code?.startsWith?.("Z_") || err.code?.startsWith?.("ERR_ZLIB") || /incorrect header|invalid (block|distance|stored)|unexpected end/i.test(err.message)) {
    return "cannot decompress: wrong passphrase, or the snapshot is corrupted or truncated";
  }
  return undefined;
}

class LegacyFormat implements StorageFormat {
  readonly name = LEGACY;
  readonly writable = false;

  constructor(private readonly folder: Folder) {}

  async list(): Promise<FormatListing> {
    const snapshots: SnapshotSummary[] = [];
    for (const [name, file] of await this.folder.objects()) {
      const legacy = parseLegacyName(name);
      if (!legacy) continue;
      const id = createHash("sha256").update(name).digest("hex");
      snapshots.push({
        format: LEGACY,
        id,
        shortId: id.slice(0, 8),
        name,
        time: legacy.time,
        order: 0,
        host: "",
        agent: "",
        paths: [],
        group: "",
        managed: false,
        storedBytes: file.size,
        items: [],
        missingItems: [],
        encryption: legacy.encrypted ? "openssl" : "none",
        layout: [],
      });
    }
    return { snapshots, damaged: [], leftovers: [] };
  }

  async write(): Promise<Committed> {
    throw new UsageError("the older plugin's format is read-only: set backup.format to \"archive\"");
  }

  open(s: SnapshotSummary, keys: Unlock): SnapshotReader {
    const encrypted = s.encryption !== "none";
    if (encrypted && !keys.passphrase) throw new UsageError(`${s.name} is an encrypted snapshot of the older plugin: set backup.passphrase to the passphrase it was made with`);
    const stages = (): Transform[] => [...(encrypted ? [createOpensslLegacyDecryptStream(keys.passphrase!, undefined, GZIP_MAGIC)] : []), createDecompressor("gzip")!];
    return { entries: (visit, opts) => readObjectEntries(this.folder, { name: s.name, total: s.storedBytes ?? 0, stages, explain }, visit, opts) };
  }

  async check(opts: CheckOptions): Promise<CheckReport> {
    const results: CheckResult[] = [];
    for (const s of opts.snapshots) {
      if (!opts.readData) {
        results.push({ snapshot: s, ok: true });
        continue;
      }
      const reader = this.open(s, opts.keys);
      try {
        results.push({ snapshot: s, ok: true, ...(await tallyEntries(reader, opts)) });
      } catch (err) {
        results.push({ snapshot: s, ok: false, error: (err as Error).message });
      }
    }
    return { results, problems: [] };
  }

  async forget(snapshots: SnapshotSummary[]): Promise<{ removed: SnapshotSummary[]; errors: string[] }> {
    const removed: SnapshotSummary[] = [];
    const errors: string[] = [];
    for (const s of snapshots) {
      try {
        await this.folder.delete(s.name); // one object: gone or not, never half
        removed.push(s);
      } catch (err) {
        errors.push(`could not delete ${s.name}: ${(err as Error).message}`);
      }
    }
    this.folder.refresh();
    return { removed, errors };
  }

  async cleanup(): Promise<string[]> {
    return []; // nothing of the older plugin is ever left half-written by this product
  }
}

export function createLegacyFormat(_job: BackupJob, folder: Folder): StorageFormat {
  return new LegacyFormat(folder);
}
