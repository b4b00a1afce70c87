// Live change journal for the long-running service: a recursive fs.watch on the local sync root collects
// the paths that changed since the last cycle, so an idle cycle needs no scan at all. The journal only
// vouches for a period it watched completely: until the first cycle after arming, after a watcher error,
// or past maxPaths (overflow), take() answers undefined and the cycle scans.
import { type FSWatcher, watch } from "node:fs";

export class ChangeJournal {
  private watcher?: FSWatcher;
  private paths = new Set<string>();
  private trusted = false;

  constructor(
    private readonly root: string,
    private readonly maxPaths = 10_000,
  ) {}

  start(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.root, { recursive: true, persistent: false }, (_event, name) => {
        if (name === null) {
          this.trusted = false; // the platform lost track of what changed
          return;
        }
        const rel = String(name).split("\\").join("/");
        if (this.paths.size >= this.maxPaths) this.trusted = false;
        else this.paths.add(rel);
      });
      this.watcher.on("error", () => {
        this.trusted = false;
        this.stop();
      });
    } catch {
      this.watcher = undefined;
    }
  }

  /**
   * Paths changed since the previous take(); undefined when the journal cannot vouch for the period.
   * Call right before a cycle: whatever changes during the cycle lands in the next take().
   */
  take(): Set<string> | undefined {
    const wasTrusted = this.trusted && !!this.watcher;
    const taken = this.paths;
    this.paths = new Set();
    // From now on the watcher has seen everything (if it is still running).
    this.trusted = !!this.watcher;
    return wasTrusted ? taken : undefined;
  }

  /** A failed cycle may have left changes unpushed: the next cycle must scan. */
  invalidate(): void {
    this.trusted = false;
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.trusted = false;
  }
}
