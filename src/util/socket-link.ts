// A connected pair of Unix stream sockets, one end for this process and one to hand to a child as its stdin and
// stdout. A protocol spoken with the child (HTTP/2 with `rclone serve restic --stdio`) then runs on a native
// socket: Node's HTTP/2 reads and writes it in C++, where over the child's two pipes every chunk passed through
// JavaScript streams on the main thread.
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface SocketLink {
  /** This process's end. */
  ours: net.Socket;
  /** The child's end: paused (never read here); pass it in `stdio`, then destroy it once the child has it. */
  theirs: net.Socket;
}

/**
 * Connects the pair through a listening socket in a fresh private folder (0700, removed at once): no other user can
 * reach it, and nothing stays on disk. Rejects where Unix sockets are not available (the caller falls back to pipes).
 */
export async function socketLink(parent = os.tmpdir()): Promise<SocketLink> {
  if (process.platform === "win32") throw new Error("Unix sockets are not used on Windows");
  const dir = await mkdtemp(path.join(parent, "ows-link-"));
  const server = net.createServer({ pauseOnConnect: true });
  try {
    const where = path.join(dir, "s");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(where, () => resolve());
    });
    const accepted = new Promise<net.Socket>((resolve, reject) => {
      server.once("connection", resolve);
      server.once("error", reject);
    });
    const ours = net.connect(where);
    await new Promise<void>((resolve, reject) => {
      ours.once("connect", resolve);
      ours.once("error", reject);
    });
    const theirs = await accepted;
    return { ours, theirs };
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
