// Writing one archive snapshot: the entry stream → tar → zstd frames → age → SHA-256 tap → `rclone rcat`, the stored
// size read back, then the manifest, written last: only then does the snapshot exist. The object name is recorded in
// the journal before the first byte goes out, so a killed run's leftover is provably this install's.
import { Readable, type Transform } from "node:stream";
import type { BackupConfig } from "../../../config/types.js";
import { product } from "../../product.js";
import type { WalkEntry } from "../../tree-walk.js";
import type { SnapshotDraft } from "../format.js";
import type { Folder } from "../folder.js";
import { BufferPool } from "./buffer-pool.js";
import { createCompressor, createRechunker, effectiveCompression } from "./codec.js";
import { encryptionFor } from "./encryption.js";
import { type ArchiveListing, manifestId, nextSequence } from "./listing.js";
import { type Manifest, MANIFEST_FORMAT, MANIFEST_VERSION, serializeManifest } from "./manifest.js";
import { manifestNameFor, newSnapshotName } from "./naming.js";
import { createTarPackStream, TAR_BATCH } from "./tar-pack.js";
import { uploadObject } from "./transfer.js";

const MAX_MANIFEST_WARNINGS = 50;

/**
 * Every folder first (from the folders' own walk), then the entries without those folders: a restore of the archive
 * makes all folders before any file (tar -x and our restore alike). A folder made after its walk is stored where the
 * entries reach it; one removed after it is stored empty.
 */
export async function* foldersFirst(folders: AsyncIterable<WalkEntry> | undefined, entries: AsyncIterable<WalkEntry>): AsyncGenerator<WalkEntry> {
  const stored = new Set<string>();
  if (folders) {
    for await (const f of folders) {
      stored.add(f.archivePath);
      yield f;
    }
  }
  for await (const e of entries) if (e.type !== "dir" || !stored.has(e.archivePath)) yield e;
}

async function* counting(entries: AsyncIterable<WalkEntry>, counts: { files: number; dirs: number; symlinks: number }): AsyncGenerator<WalkEntry> {
  for await (const e of entries) {
    if (e.type === "file") counts.files++;
    else if (e.type === "dir") counts.dirs++;
    else if (e.type === "symlink") counts.symlinks++;
    yield e;
  }
}

export interface WrittenArchive {
  name: string;
  id: string;
  manifest: Manifest;
}

/** `early`: the encryption stage made beforehand (its key derivation overlapped with the listing). */
export async function writeArchive(
  folder: Folder,
  config: BackupConfig,
  now: () => Date,
  listing: ArchiveListing,
  draft: SnapshotDraft,
  early?: Transform,
): Promise<WrittenArchive> {
  const compression = effectiveCompression(config.compression);
  if (compression !== config.compression) draft.warn("zstd is not available in this Node.js: using gzip");
  const encryption = encryptionFor(config);
  const name = newSnapshotName(draft.time, compression, config.encrypt, listing.names);
  const sequence = nextSequence(listing);
  await draft.journal.begin(name);

  const counts = { files: 0, dirs: 0, symlinks: 0 };
  let skipped = 0;
  let bytes = 0;
  // The tar writer's 1 MiB batches are the zstd stage's blocks: compressed, they come back to be filled again.
  const pool = compression === "zstd" ? new BufferPool(TAR_BATCH) : undefined;
  const tar = createTarPackStream(counting(foldersFirst(draft.folders?.(), draft.entries), counts), {
    pool,
    onProgress: (p) => {
      bytes = p.bytes;
      draft.onProgress(p.bytes, p.files);
    },
    onWarning: (m) => {
      // The packer skips a file that vanished (or cannot be opened) before its header was written.
      if (m.startsWith("skipped ")) skipped++;
      draft.warn(m);
    },
  });
  // S3 part sizes must fit the whole stream: there, wait for the walk (other backends need no size).
  const expected = folder.remote.backendType === "s3" ? await draft.estimate.catch(() => undefined) : undefined;
  // zstd cuts its own blocks; the other stages get ~1 MiB pieces instead of the tar stream's small ones.
  const stages = [tar, compression === "zstd" ? undefined : createRechunker(), createCompressor(compression, { pool }), early ?? encryption.create()].filter((s) => s !== undefined);
  const stored = await uploadObject({
    ...folder.access,
    name,
    stages,
    expectedBytes: expected ? expected.bytes + expected.files * 1536 : 0,
    signal: draft.signal,
  });
  const size = await folder.size(name);
  if (size !== stored.size) throw new Error(`the repository holds ${size ?? "no"} bytes of ${name} after the upload, ${stored.size} were sent`);

  const sealed = draft.sealed();
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    snapshot: name,
    created: draft.time.toISOString(),
    finished: now().toISOString(),
    host: draft.host,
    agent: draft.agent,
    paths: draft.paths,
    product: product(),
    roots: draft.roots,
    items: draft.items.map((i) => ({ item: i.item as Manifest["items"][number]["item"], archivePath: i.path, livePath: i.livePath, type: i.type })),
    missingItems: draft.missingItems as Manifest["missingItems"],
    missing: draft.missing as Manifest["missing"],
    databases: sealed.databases,
    files: counts.files - skipped,
    dirs: counts.dirs,
    symlinks: counts.symlinks,
    bytes,
    stored,
    compression,
    encryption: encryption.info,
    sequence,
    fingerprint: sealed.fingerprint,
    warnings: sealed.warnings.slice(0, MAX_MANIFEST_WARNINGS),
  };
  const text = serializeManifest(manifest);
  await uploadObject({ ...folder.access, name: manifestNameFor(name), stages: [Readable.from([Buffer.from(text)])], expectedBytes: 0, signal: draft.signal });
  folder.refresh();
  await draft.journal.end(name);
  return { name, id: manifestId(text), manifest };
}
