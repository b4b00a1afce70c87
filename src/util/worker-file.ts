// Where a worker thread's module is. tsc puts it beside the module that starts it (dist/<folder>/x-worker.js); the
// bundled CLI (dist/bundle/chunk-*.js) runs that module from a chunk, and the worker is then found in dist/'s tree.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The first of `candidates` (paths relative to `from`, the URL of the module asking) that exists, or undefined (the
 * sources run without a build): the caller then does the work on its own thread.
 */
export function findWorkerFile(from: string, candidates: readonly string[]): string | undefined {
  const here = new URL(from);
  for (const rel of candidates) {
    const file = fileURLToPath(new URL(rel, here));
    if (existsSync(file)) return file;
  }
  return undefined;
}
