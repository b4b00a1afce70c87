// Finds an executable on a PATH, as a shell would (the first folder that holds it, executable).
import { access, constants } from "node:fs/promises";
import path from "node:path";

/** The first `dir/name` on `envPath` that is executable; undefined when there is none. */
export async function whichOnPath(name: string, envPath: string | undefined): Promise<string | undefined> {
  for (const dir of (envPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
