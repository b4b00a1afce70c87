// A batch of small files as a helper thread writes it (the thread side of file-writers.ts): the same synchronous
// system calls as on the restore's own thread (small-file.ts), each file's failure answered by its index. Runs on the
// repository decoder's thread (decode-worker.ts).
import { releaseBuffer } from "../../util/release-buffer.js";
import { writeSmallFile, type SmallFile } from "./small-file.js";

export interface BatchFile extends SmallFile {
  /** The file's own memory among the batch's parts; absent: its bytes are in the batch buffer. */
  part?: number;
  /** Where the file's bytes are (in its part or the batch buffer). */
  offset: number;
  length: number;
}

export interface Batch {
  kind: "files";
  id: number;
  files: BatchFile[];
  data: ArrayBuffer;
  /** Files' own memory, moved here with the batch (freed once written). */
  parts: ArrayBuffer[];
}

export interface FileFailure {
  index: number;
  message: string;
  code?: string;
  syscall?: string;
}

export interface BatchAnswer {
  kind: "written";
  id: number;
  failures: FileFailure[];
  /** The batch buffer, back to be filled again. */
  data: ArrayBuffer;
}

export function isBatch(m: unknown): m is Batch {
  return (m as { kind?: unknown })?.kind === "files";
}

export function isBatchAnswer(m: unknown): m is BatchAnswer {
  return (m as { kind?: unknown })?.kind === "written";
}

export function writeBatch(batch: Batch): BatchAnswer {
  const failures: FileFailure[] = [];
  batch.files.forEach((file, index) => {
    try {
      writeSmallFile(file, new Uint8Array(file.part === undefined ? batch.data : batch.parts[file.part]!, file.offset, file.length));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      failures.push({ index, message: e.message, code: e.code, syscall: e.syscall });
    }
  });
  // The parts' memory is freed now, not when this thread's collector gets to it.
  for (const part of batch.parts) releaseBuffer(new Uint8Array(part));
  return { kind: "written", id: batch.id, failures, data: batch.data };
}
