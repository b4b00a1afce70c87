// Child process for repository-store-kill.faults.ts: one "run" against a restic-format repository through
// `rclone serve restic --stdio` (the built dist/ modules): shared lock, blobs, flush, snapshot, release. Prints
// progress lines the parent uses to pick kill points. Args: JSON {conf, remotePath, password, seed, blobs,
// bigSnapshot (bytes of random tag text, so the snapshot upload takes a while), stagedSaves, spoolDir (staged saves
// are then moved into place through the session's remote control)}.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "dist");
const { Repository } = await import(path.join(dist, "backup/formats/repository/repository.js"));
const { RcloneStorage } = await import(path.join(dist, "backup/formats/repository/backend.js"));
const { findRclone } = await import(path.join(dist, "rclone/binary.js"));

const args = JSON.parse(process.argv[2]);
const say = (what) => process.stdout.write(`${what}\n`);
const storage = new RcloneStorage({ bin: await findRclone(), configPath: args.conf, remotePath: args.remotePath, onSpawn: (pid) => say(`rclone ${pid}`), ...(args.stagedSaves !== undefined ? { stagedSaves: args.stagedSaves } : {}), ...(args.spoolDir ? { spoolDir: args.spoolDir } : {}) });
const repo = await Repository.open(storage, args.password, { packSize: 512 * 1024, uploads: 2 });
await repo.loadIndex();
const lock = await repo.lock({ exclusive: false });
say("locked");
const content = [];
let size = 0;
for (let i = 0; i < args.blobs; i++) {
  const blob = i % 3 === 0 ? Buffer.from(`text ${args.seed} ${i} `.repeat(5000)) : randomBytes(150_000);
  content.push((await repo.saveBlob("data", blob)).id);
  size += blob.length;
  if (i % 4 === 0) say(`blob ${i}`);
}
const t = "2024-05-01T10:00:00Z";
const node = { name: `file-${args.seed}.bin`, type: "file", mode: 420, mtime: t, atime: t, ctime: t, uid: 0, gid: 0, size, content };
const tree = await repo.saveBlob("tree", Buffer.from(`{"nodes":[${JSON.stringify(node)}]}\n`));
say("flushing");
await repo.flush();
say("flushed");
const tags = args.bigSnapshot ? [randomBytes(args.bigSnapshot / 2).toString("hex")] : undefined;
say("saving snapshot");
const snap = await repo.saveUnpacked("snapshots", JSON.stringify({ time: new Date().toISOString(), tree: tree.id, paths: ["/f"], hostname: "faults", ...(tags ? { tags } : {}) }));
say(`snapshot ${snap}`);
say(`moved in process ${storage.movedInProcess}`);
await lock.release();
await repo.close();
say("done");
