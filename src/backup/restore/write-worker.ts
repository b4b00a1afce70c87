// The small-file writer's own thread (file-writers.ts), started where no other helper thread runs: it writes each
// batch it is sent (write-batch.ts) and sends the batch buffer back with the answer.
import { parentPort } from "node:worker_threads";
import { isBatch, writeBatch } from "./write-batch.js";

parentPort?.on("message", (m: unknown) => {
  if (!isBatch(m)) return;
  const answer = writeBatch(m);
  parentPort!.postMessage(answer, [answer.data]);
});
