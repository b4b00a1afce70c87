// The thread side of file-writers.ts: writes batches of small files with synchronous system calls (small-file.ts),
// so that creating thousands of files (on ext4 the creation alone is most of a small file's cost) runs beside the
// restore's decoding and planning instead of inside it. Each file's failure is answered by its index; the batch's
// buffer goes back to be filled again.
import { parentPort } from "node:worker_threads";
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
  id: number;
  failures: FileFailure[];
  data: ArrayBuffer;
}

parentPort?.on("message", (batch: Batch) => {
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
  const answer: BatchAnswer = { id: batch.id, failures, data: batch.data };
  parentPort!.postMessage(answer, [batch.data]);
});
