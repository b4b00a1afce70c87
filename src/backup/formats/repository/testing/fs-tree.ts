// Test-only: a minimal archiver over this folder's pure modules (fs-node, chunker, tree): walks a directory and
// returns every tree blob it would write, to compare with what the real restic wrote for the same directory.
import { createHash } from "node:crypto";
import { open, readdir } from "node:fs/promises";
import path from "node:path";
import { ChunkReader, readFromFileHandle } from "../chunker/index.js";
import { type FsNodeOptions, nodeFromPath } from "../fs-node.js";
import type { Node } from "../node.js";
import { encodeTree, treeId } from "../tree.js";

export interface FsTree {
  root: string;
  trees: Map<string, Buffer>;
}

export async function treeFromFs(dir: string, polynomial: string, options: FsNodeOptions = {}): Promise<FsTree> {
  const reader = new ChunkReader(polynomial);
  const trees = new Map<string, Buffer>();
  const walk = async (d: Buffer): Promise<string> => {
    const names = await readdir(d, { encoding: "buffer" });
    const nodes: Node[] = [];
    for (const name of names) {
      const full = Buffer.concat([d, Buffer.from("/"), name]);
      const node = await nodeFromPath(full, options);
      if (node.type === "socket") continue; // restic's archiver skips sockets ("is a socket, ignoring")
      if (node.type === "file") {
        const fh = await open(full, "r");
        try {
          const ids: string[] = [];
          for await (const chunk of reader.chunks(readFromFileHandle(fh))) ids.push(createHash("sha256").update(chunk).digest("hex"));
          node.content = ids;
        } finally {
          await fh.close();
        }
      } else if (node.type === "dir") {
        node.subtree = await walk(full);
      }
      nodes.push(node);
    }
    const bytes = encodeTree(nodes);
    const id = treeId(bytes);
    trees.set(id, bytes);
    return id;
  };
  const root = await walk(Buffer.from(path.resolve(dir)));
  return { root, trees };
}
