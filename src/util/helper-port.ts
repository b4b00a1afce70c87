// A service's line to a helper thread that hosts other work too. Each Node thread is a runtime of its own (~20 MiB
// of memory), so a restore runs one at most: the repository decoder's thread also writes the small files
// (restore/file-writers.ts).

export interface HelperPort {
  /** Sends a message (the buffers in `transfer` move with it). */
  post(message: unknown, transfer: ArrayBuffer[]): void;
  /** Sets the handlers for this service's answers and for the thread's end (once). */
  listen(onMessage: (message: unknown) => void, onStop: (err: Error) => void): void;
  /** Work is in flight (true) or not (false): the thread keeps the process alive only while there is. */
  busy(working: boolean): void;
  /** The service is done with the thread: one of its own ends, a shared one ends when its last user is done. */
  end(): Promise<void>;
}
