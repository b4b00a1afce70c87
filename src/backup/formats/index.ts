// Every storage format the product knows, by the name `backup.format` uses. The only place that names them: the
// commands list all of them (a folder may hold several at once) and write with the configured one.
import type { BackupJob } from "../job.js";
import { createArchiveFormat } from "./archive/index.js";
import type { StorageFormat } from "./format.js";
import { Folder } from "./folder.js";
import { createLegacyFormat } from "./legacy/index.js";
import { createRepositoryFormat } from "./repository/format.js";
import { stallProbeOf } from "../../rclone/reach.js";

const FACTORIES: Record<string, (job: BackupJob, folder: Folder) => StorageFormat> = {
  archive: createArchiveFormat,
  legacy: createLegacyFormat,
  repository: createRepositoryFormat,
};

export interface Formats {
  /** Every format, listed and merged by the commands. */
  all: StorageFormat[];
  /** The one `backup.format` writes. */
  writer: StorageFormat;
  byName(name: string): StorageFormat;
}

/** The formats of the job's folder; `onSpawn` is told every rclone child they start (a backup records them). */
export function openFormats(job: BackupJob, onSpawn?: (pid: number) => void): Formats {
  const folder = new Folder({
    bin: job.bin,
    remote: job.remote,
    env: job.env,
    ...(job.signal ? { signal: job.signal } : {}),
    ...(onSpawn ? { onSpawn } : {}),
    stallProbe: stallProbeOf(job.bin, job.remote, job.env, onSpawn),
  });
  const all = Object.values(FACTORIES).map((make) => make(job, folder));
  const byName = (name: string) => {
    const f = all.find((x) => x.name === name);
    if (!f) throw new Error(`unknown backup format ${name}`);
    return f;
  };
  const writer = byName(job.config.format);
  if (!writer.writable) throw new Error(`backup format ${writer.name} cannot write`);
  return { all, writer, byName };
}

/**
 * Runs a command with the job's formats, then ends what they hold open (the repository's rclone transport, which
 * would otherwise close only after its idle time: a CLI run then ends ~0.25 s later than its work).
 */
export async function withFormats<T>(job: BackupJob, fn: (formats: Formats) => Promise<T>): Promise<T> {
  const formats = openFormats(job);
  try {
    return await fn(formats);
  } finally {
    await closeFormats(formats);
  }
}

/** Ends what the formats hold open (a format that fails to close has nothing left to lose). */
export async function closeFormats(formats: Formats): Promise<void> {
  await Promise.all(formats.all.map((f) => f.close?.().catch(() => {})));
}
